/* Unit tests for jk_package: seal -> verify -> open round trips; every
 * single-byte change and every truncation of a package is detected; wrong
 * public key and wrong release key; hostile length fields; correctly signed
 * but invalid headers; center key files (modes, formats, refusals); release
 * key text; the keys file; the file helpers.
 *
 * Design note: the test reaches into OpenSSL directly (it is not library
 * code) for two things the public API deliberately can't do: re-signing a
 * doctored package with a given private key, to reach the checks that run
 * after the signature, and making foreign key files (encrypted, not
 * Ed25519). Temporary files live in a fresh mkdtemp directory under
 * $TMPDIR (or /tmp) and are removed at the end. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jk_package.h"
#include "jk_rand.h"

#define T_SMALL_PAYLOAD "paper v1: theory 5级 items J001 S002 M003 (no keys here)"
#define T_MIB (1024u * 1024u)
#define T_SAMPLES 400 /* random positions checked in the 1 MiB package */

static const jk_package_info_t s_info = {
    .sitting_id = "2026-11-S1",
    .site_id = "site-0042",
    .created_ms = 1764460800000LL,
    .exam_start_ms = 1764468000000LL,
};

/* ---- helpers ---- */

static char s_dir[512];

static void s_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", s_dir, name);
}

static int s_setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/jk-package-test.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown_dir(void **state)
{
    (void)state;
    DIR *d = opendir(s_dir);
    if (!d)
        return -1;
    struct dirent *de;
    char p[1024];
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", s_dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    return rmdir(s_dir);
}

/* True when no "*.tmp.*" file is left in the test directory. */
static bool s_no_temp_files(void)
{
    DIR *d = opendir(s_dir);
    bool clean = true;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".tmp."))
            clean = false;
    if (d)
        closedir(d);
    return clean;
}

static unsigned s_mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

static void s_write_text(const char *path, const char *text, unsigned mode)
{
    jk_error_t e;
    assert_int_equal(jk_package_file_write(path, text, strlen(text), mode, &e), JK_OK);
}

static uint8_t *s_seal(const void *payload, size_t len, const jk_package_key_t *k, uint8_t rk[32],
                       size_t *n, jk_package_header_t *h)
{
    jk_error_t e;
    uint8_t *pkg = NULL;
    assert_int_equal(jk_package_seal(payload, len, &s_info, k, rk, &pkg, n, h, &e), JK_OK);
    assert_non_null(pkg);
    return pkg;
}

static uint8_t *s_dup(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    memcpy(c, p, n);
    return c;
}

static uint32_t s_hdr_len(const uint8_t *pkg)
{
    return (uint32_t)pkg[6] << 24 | (uint32_t)pkg[7] << 16 | (uint32_t)pkg[8] << 8 | pkg[9];
}

/* Replaces the first `from` in the header with `to` (same length) and
 * re-signs the package with the private key in the PEM file key_path. */
static void s_patch_resign(uint8_t *pkg, size_t n, const char *from, const char *to,
                           const char *key_path)
{
    size_t fl = strlen(from);
    assert_int_equal(fl, strlen(to));
    uint32_t hl = s_hdr_len(pkg);
    uint8_t *h = pkg + 10;
    size_t i;
    for (i = 0; i + fl <= hl; i++)
        if (memcmp(h + i, from, fl) == 0)
            break;
    assert_true(i + fl <= hl);
    memcpy(h + i, to, fl);

    FILE *f = fopen(key_path, "r");
    assert_non_null(f);
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(pkey);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sl = 64;
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey), 1);
    assert_int_equal(EVP_DigestSign(ctx, pkg + n - 64, &sl, pkg, n - 64), 1);
    assert_int_equal(sl, 64);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
}

static void s_assert_header_equal(const jk_package_header_t *a, const jk_package_header_t *b)
{
    assert_int_equal(a->version, b->version);
    assert_string_equal(a->package_id, b->package_id);
    assert_string_equal(a->sitting_id, b->sitting_id);
    assert_string_equal(a->site_id, b->site_id);
    assert_int_equal(a->created_ms, b->created_ms);
    assert_int_equal(a->exam_start_ms, b->exam_start_ms);
    assert_string_equal(a->key_id, b->key_id);
    assert_int_equal(a->payload_bytes, b->payload_bytes);
    assert_memory_equal(a->nonce, b->nonce, sizeof a->nonce);
}

static bool s_contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t l = strlen(needle);
    for (size_t i = 0; i + l <= n; i++)
        if (memcmp(hay + i, needle, l) == 0)
            return true;
    return false;
}

/* ---- round trips ---- */

static void s_round_trip(size_t len)
{
    jk_error_t e;
    jk_package_key_t *k = jk_package_key_generate(&e);
    assert_non_null(k);
    uint8_t *payload = malloc(len ? len : 1);
    assert_non_null(payload);
    jk_rand_t r;
    jk_rand_seed(&r, 42);
    for (size_t i = 0; i < len; i++)
        payload[i] = (uint8_t)jk_rand_next(&r);

    uint8_t rk[JK_RELEASE_KEY_BYTES], zero[JK_RELEASE_KEY_BYTES] = { 0 };
    size_t n = 0;
    jk_package_header_t h, hv, ho;
    uint8_t *pkg = s_seal(len ? payload : NULL, len, k, rk, &n, &h);
    assert_memory_not_equal(rk, zero, sizeof rk);
    assert_int_equal(n, JK_PACKAGE_OVERHEAD_BYTES + s_hdr_len(pkg) + len);
    assert_memory_equal(pkg, "JKPKG\x01", 6);

    assert_int_equal(h.version, 1);
    assert_string_equal(h.sitting_id, s_info.sitting_id);
    assert_string_equal(h.site_id, s_info.site_id);
    assert_int_equal(h.created_ms, s_info.created_ms);
    assert_int_equal(h.exam_start_ms, s_info.exam_start_ms);
    assert_string_equal(h.key_id, jk_package_key_id(k));
    assert_int_equal(h.payload_bytes, len);
    assert_int_equal(strlen(h.package_id), JK_PACKAGE_PACKAGE_ID_HEX);

    /* The header is readable in plain; the payload is not. */
    uint32_t hl = s_hdr_len(pkg);
    assert_true(s_contains(pkg + 10, hl, "\"site_id\":\"site-0042\""));
    assert_true(s_contains(pkg + 10, hl, "\"cipher\":\"AES-256-GCM\""));
    assert_true(s_contains(pkg + 10, hl, "\"format\":\"jikao-package\""));
    if (len >= 64)
        assert_memory_not_equal(pkg + 10 + hl + 8, payload, 64);

    assert_int_equal(jk_package_verify(pkg, n, k, &hv, &e), JK_OK);
    s_assert_header_equal(&hv, &h);

    uint8_t *out = NULL;
    size_t out_len = 99;
    assert_int_equal(jk_package_open(pkg, n, k, rk, &ho, &out, &out_len, &e), JK_OK);
    assert_non_null(out);
    assert_int_equal(out_len, len);
    if (len)
        assert_memory_equal(out, payload, len);
    s_assert_header_equal(&ho, &h);

    /* A second seal of the same payload: fresh key, nonce and id. */
    uint8_t rk2[JK_RELEASE_KEY_BYTES];
    size_t n2 = 0;
    jk_package_header_t h2;
    uint8_t *pkg2 = s_seal(len ? payload : NULL, len, k, rk2, &n2, &h2);
    assert_memory_not_equal(rk, rk2, sizeof rk);
    assert_memory_not_equal(h.nonce, h2.nonce, sizeof h.nonce);
    assert_string_not_equal(h.package_id, h2.package_id);

    /* Digest: SHA-256 of the bytes, different per package. */
    uint8_t d1[32], d2[32], ref[32];
    unsigned int dl = 0;
    assert_int_equal(jk_package_digest(pkg, n, d1, &e), JK_OK);
    assert_int_equal(jk_package_digest(pkg2, n2, d2, &e), JK_OK);
    assert_int_equal(EVP_Digest(pkg, n, ref, &dl, EVP_sha256(), NULL), 1);
    assert_memory_equal(d1, ref, 32);
    assert_memory_not_equal(d1, d2, 32);

    free(pkg2);
    free(out);
    free(pkg);
    free(payload);
    jk_package_key_destroy(&k);
    assert_null(k);
    jk_package_key_destroy(&k); /* NULL is fine */
    jk_package_key_destroy(NULL);
}

static void test_round_trip_empty(void **state)
{
    (void)state;
    s_round_trip(0);
}

static void test_round_trip_1mib(void **state)
{
    (void)state;
    s_round_trip(T_MIB);
}

/* ---- tampering ---- */

/* Every byte of a small package, three different changes each. */
static void test_flip_every_byte_small(void **state)
{
    (void)state;
    jk_error_t e;
    jk_package_key_t *k = jk_package_key_generate(&e);
    uint8_t rk[32];
    size_t n;
    uint8_t *pkg = s_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), k, rk, &n, NULL);
    static const uint8_t masks[] = { 0x01, 0x80, 0xFF };
    uint8_t *c = s_dup(pkg, n);
    for (size_t i = 0; i < n; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            c[i] ^= masks[m];
            uint8_t *out = (uint8_t *)&e; /* must be reset to NULL */
            size_t out_len = 7;
            jk_err_t rv = jk_package_verify(c, n, k, NULL, &e);
            if (rv == JK_OK)
                fail_msg("verify accepted a change at byte %zu (mask %02x)", i, masks[m]);
            jk_err_t ro = jk_package_open(c, n, k, rk, NULL, &out, &out_len, &e);
            if (ro == JK_OK)
                fail_msg("open accepted a change at byte %zu (mask %02x)", i, masks[m]);
            assert_null(out);
            assert_int_equal(out_len, 0);
            c[i] = pkg[i];
        }
    }
    free(c);
    free(pkg);
    jk_package_key_destroy(&k);
}

/* A 1 MiB package: every byte of the plain prefix and the trailer, and a
 * random sample of the ciphertext. */
static void test_flip_sampled_large(void **state)
{
    (void)state;
    jk_error_t e;
    jk_package_key_t *k = jk_package_key_generate(&e);
    uint8_t *payload = calloc(1, T_MIB);
    assert_non_null(payload);
    uint8_t rk[32];
    size_t n;
    uint8_t *pkg = s_seal(payload, T_MIB, k, rk, &n, NULL);
    size_t prefix = 10 + s_hdr_len(pkg) + 8;
    jk_rand_t r;
    jk_rand_seed(&r, 7);
    for (size_t s = 0; s < prefix + 80 + T_SAMPLES; s++) {
        size_t i;
        if (s < prefix)
            i = s;
        else if (s < prefix + 80)
            i = n - 80 + (s - prefix); /* tag and signature */
        else
            i = prefix + (size_t)jk_rand_below(&r, T_MIB);
        uint8_t mask = (uint8_t)(1u << jk_rand_below(&r, 8));
        pkg[i] ^= mask;
        if (jk_package_verify(pkg, n, k, NULL, &e) == JK_OK)
            fail_msg("verify accepted a change at byte %zu", i);
        pkg[i] ^= mask;
    }
    /* A few through open as well. */
    for (int t = 0; t < 4; t++) {
        size_t i = prefix + (size_t)jk_rand_below(&r, T_MIB);
        uint8_t *out = NULL;
        size_t ol = 0;
        pkg[i] ^= 0x10;
        assert_int_equal(jk_package_open(pkg, n, k, rk, NULL, &out, &ol, &e), JK_ERR_AUTH);
        assert_null(out);
        pkg[i] ^= 0x10;
    }
    assert_int_equal(jk_package_verify(pkg, n, k, NULL, &e), JK_OK);
    free(pkg);
    free(payload);
    jk_package_key_destroy(&k);
}

static void test_truncation(void **state)
{
    (void)state;
    jk_error_t e;
    jk_package_key_t *k = jk_package_key_generate(&e);
    uint8_t rk[32];
    size_t n;
    uint8_t *pkg = s_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), k, rk, &n, NULL);
    /* Every shorter length, in a buffer of exactly that length (so ASan
     * sees any read past it). */
    for (size_t l = 0; l < n; l++) {
        uint8_t *c = s_dup(pkg, l);
        jk_err_t rc = jk_package_verify(l ? c : NULL, l, k, NULL, &e);
        if (rc != JK_ERR_PARSE)
            fail_msg("truncation to %zu of %zu bytes: %s (%s)", l, n, jk_strerror(rc), e.msg);
        uint8_t *out = NULL;
        size_t ol;
        assert_int_not_equal(jk_package_open(c, l, k, rk, NULL, &out, &ol, &e), JK_OK);
        free(c);
    }
    /* One byte too many. */
    uint8_t *c = malloc(n + 1);
    memcpy(c, pkg, n);
    c[n] = 0;
    assert_int_equal(jk_package_verify(c, n + 1, k, NULL, &e), JK_ERR_PARSE);
    free(c);
    free(pkg);

    /* A large package, at a sample of lengths. */
    uint8_t *payload = calloc(1, T_MIB);
    pkg = s_seal(payload, T_MIB, k, rk, &n, NULL);
    static const size_t cuts[] = { 0, 5, 6, 9, 10, 11, 100, T_MIB / 2, T_MIB };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        assert_int_equal(jk_package_verify(pkg, cuts[i], k, NULL, &e), JK_ERR_PARSE);
    for (size_t l = n - 100; l < n; l++)
        assert_int_equal(jk_package_verify(pkg, l, k, NULL, &e), JK_ERR_PARSE);
    assert_int_equal(jk_package_verify(pkg, n, k, NULL, &e), JK_OK);
    free(pkg);
    free(payload);
    jk_package_key_destroy(&k);
}

static void test_magic_and_lengths(void **state)
{
    (void)state;
    jk_error_t e;
    jk_package_key_t *k = jk_package_key_generate(&e);
    uint8_t rk[32];
    size_t n;
    uint8_t *pkg = s_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), k, rk, &n, NULL);
    uint32_t hl = s_hdr_len(pkg);
    uint8_t *c = s_dup(pkg, n);

    c[4] = 'H';
    assert_int_equal(jk_package_verify(c, n, k, NULL, &e), JK_ERR_PARSE);
    assert_non_null(strstr(e.msg, "magic"));
    assert_int_equal(jk_package_verify(c, 3, k, NULL, &e), JK_ERR_PARSE); /* "JKP" fine, short */
    c[4] = 'G';
    c[5] = 2;
    assert_int_equal(jk_package_verify(c, n, k, NULL, &e), JK_ERR_VERSION);
    c[5] = 1;

    /* Header length: 0, max (then truncated), max + 1, all ones. */
    static const struct {
        uint32_t v;
        jk_err_t want;
    } hcases[] = {
        { 0, JK_ERR_PARSE },
        { JK_PACKAGE_HEADER_MAX_BYTES, JK_ERR_PARSE },
        { JK_PACKAGE_HEADER_MAX_BYTES + 1, JK_ERR_TOO_BIG },
        { 0x7FFFFFFFu, JK_ERR_TOO_BIG },
        { 0xFFFFFFFFu, JK_ERR_TOO_BIG },
    };
    for (size_t i = 0; i < sizeof hcases / sizeof hcases[0]; i++) {
        uint32_t v = hcases[i].v;
        c[6] = (uint8_t)(v >> 24);
        c[7] = (uint8_t)(v >> 16);
        c[8] = (uint8_t)(v >> 8);
        c[9] = (uint8_t)v;
        assert_int_equal(jk_package_verify(c, n, k, NULL, &e), hcases[i].want);
    }
    memcpy(c, pkg, n);

    /* Payload length. */
    static const struct {
        uint64_t v;
        jk_err_t want;
    } pcases[] = {
        { JK_PACKAGE_PAYLOAD_MAX_BYTES, JK_ERR_PARSE }, /* in bounds, so truncated */
        { (uint64_t)JK_PACKAGE_PAYLOAD_MAX_BYTES + 1, JK_ERR_TOO_BIG },
        { UINT64_C(1) << 40, JK_ERR_TOO_BIG },
        { UINT64_MAX, JK_ERR_TOO_BIG },
        { 0, JK_ERR_PARSE }, /* trailing bytes */
    };
    for (size_t i = 0; i < sizeof pcases / sizeof pcases[0]; i++) {
        uint64_t v = pcases[i].v;
        for (int b = 0; b < 8; b++)
            c[10 + hl + (size_t)b] = (uint8_t)(v >> (56 - 8 * b));
        assert_int_equal(jk_package_verify(c, n, k, NULL, &e), pcases[i].want);
    }
    free(c);

    /* Hostile fixed buffers: only magic and lengths, nothing behind. */
    uint8_t tiny[20] = { 'J', 'K', 'P', 'K', 'G', 1, 0, 0, 0, 2, '{', '}',
                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    assert_int_equal(jk_package_verify(tiny, 14, k, NULL, &e), JK_ERR_PARSE);
    assert_int_equal(jk_package_verify(tiny, sizeof tiny, k, NULL, &e), JK_ERR_TOO_BIG);
    assert_int_equal(jk_package_verify(NULL, 0, k, NULL, &e), JK_ERR_PARSE);
    assert_int_equal(jk_package_verify(pkg, n, NULL, NULL, &e), JK_ERR_INVAL);

    free(pkg);
    jk_package_key_destroy(&k);
}

static void test_wrong_public_key(void **state)
{
    (void)state;
    jk_error_t e;
    char pa[1024], pb[1024];
    s_path(pa, sizeof pa, "a.key");
    s_path(pb, sizeof pb, "b.key");
    jk_package_key_t *a = jk_package_key_generate(&e);
    jk_package_key_t *b = jk_package_key_generate(&e);
    assert_string_not_equal(jk_package_key_id(a), jk_package_key_id(b));
    assert_int_equal(jk_package_key_save_private(b, pb, &e), JK_OK);
    uint8_t rk[32];
    size_t n;
    uint8_t *pkg = s_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), a, rk, &n, NULL);

    /* Verified with another center's key: the key id doesn't match. */
    assert_int_equal(jk_package_verify(pkg, n, b, NULL, &e), JK_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, jk_package_key_id(a)));
    uint8_t *out = NULL;
    size_t ol;
    assert_int_equal(jk_package_open(pkg, n, b, rk, NULL, &out, &ol, &e), JK_ERR_NOTFOUND);
    assert_null(out);
    free(pkg);

    /* Made by b but claiming a's key id: the signature check fails. */
    pkg = s_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), b, rk, &n, NULL);
    s_patch_resign(pkg, n, jk_package_key_id(b), jk_package_key_id(a), pb);
    assert_int_equal(jk_package_verify(pkg, n, a, NULL, &e), JK_ERR_AUTH);
    assert_non_null(strstr(e.msg, "changed or not made by this center"));
    free(pkg);
    jk_package_key_destroy(&a);
    jk_package_key_destroy(&b);
    unlink(pb);
}

static void test_wrong_release_key(void **state)
{
    (void)state;
    jk_error_t e;
    jk_package_key_t *k = jk_package_key_generate(&e);
    uint8_t rk[32], other[32];
    size_t n;
    uint8_t *pkg = s_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), k, rk, &n, NULL);
    uint8_t *out = NULL;
    size_t ol = 0;

    assert_int_equal(jk_package_verify(pkg, n, k, NULL, &e), JK_OK); /* no key needed */
    memcpy(other, rk, 32);
    other[31] ^= 1;
    assert_int_equal(jk_package_open(pkg, n, k, other, NULL, &out, &ol, &e), JK_ERR_AUTH);
    assert_null(out);
    assert_non_null(strstr(e.msg, "release key"));
    /* The message carries no key material. */
    char hex[JK_RELEASE_KEY_TEXT_BYTES];
    jk_release_key_format(other, hex);
    hex[16] = '\0';
    assert_null(strstr(e.msg, hex));
    memset(other, 0, 32);
    assert_int_equal(jk_package_open(pkg, n, k, other, NULL, &out, &ol, &e), JK_ERR_AUTH);
    /* Another package's key. */
    uint8_t rk2[32];
    size_t n2;
    uint8_t *pkg2 = s_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), k, rk2, &n2, NULL);
    assert_int_equal(jk_package_open(pkg, n, k, rk2, NULL, &out, &ol, &e), JK_ERR_AUTH);
    assert_int_equal(jk_package_open(pkg, n, k, rk, NULL, &out, &ol, &e), JK_OK);
    assert_int_equal(ol, strlen(T_SMALL_PAYLOAD));
    free(out);
    free(pkg2);
    free(pkg);
    jk_package_key_destroy(&k);
}

/* Headers that are correctly signed but not valid: a center-side bug, or a
 * key used by something else. Reached by re-signing doctored packages. */
static void test_signed_bad_headers(void **state)
{
    (void)state;
    jk_error_t e;
    char kp[1024];
    s_path(kp, sizeof kp, "center.key");
    jk_package_key_t *k = jk_package_key_generate(&e);
    assert_int_equal(jk_package_key_save_private(k, kp, &e), JK_OK);
    char payload[100];
    memset(payload, 'x', sizeof payload);

    static const struct {
        const char *from, *to;
        jk_err_t want;
    } cases[] = {
        { "\"format_version\":1", "\"format_version\":2", JK_ERR_VERSION },
        { "\"payload_bytes\":100", "\"payload_bytes\":101", JK_ERR_PARSE },
        { "AES-256-GCM", "AES-256-CBC", JK_ERR_VERSION },
        { "\"format\"", "\"formax\"", JK_ERR_PARSE },
        { "jikao-package", "jikao-packagf", JK_ERR_VERSION },
        { "\"site_id\":\"site-0042\"", "\"site_id\":\"site 0042\"", JK_ERR_PARSE },
        { "\"created_ms\":1", "\"created_ms\":-", JK_ERR_RANGE },
        { "\"created_ms\"", "\"created_mx\"", JK_ERR_PARSE },
        { "{", "[", JK_ERR_PARSE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t rk[32];
        size_t n;
        uint8_t *pkg = s_seal(payload, sizeof payload, k, rk, &n, NULL);
        s_patch_resign(pkg, n, cases[i].from, cases[i].to, kp);
        jk_err_t rc = jk_package_verify(pkg, n, k, NULL, &e);
        if (rc != cases[i].want)
            fail_msg("case %zu (%s): got %s (%s)", i, cases[i].to, jk_strerror(rc), e.msg);
        free(pkg);
    }
    /* A valid re-sign (no change) still verifies: the helper is sound. */
    uint8_t rk[32];
    size_t n;
    uint8_t *pkg = s_seal(payload, sizeof payload, k, rk, &n, NULL);
    s_patch_resign(pkg, n, "\"format_version\":1", "\"format_version\":1", kp);
    assert_int_equal(jk_package_verify(pkg, n, k, NULL, &e), JK_OK);
    free(pkg);
    jk_package_key_destroy(&k);
    unlink(kp);
}

static void test_seal_arguments(void **state)
{
    (void)state;
    jk_error_t e;
    jk_package_key_t *k = jk_package_key_generate(&e);
    uint8_t rk[32];
    uint8_t *pkg = (uint8_t *)&e;
    size_t n = 5;
    jk_package_info_t info = s_info;

    info.site_id = "site 1";
    memset(rk, 0xAA, sizeof rk);
    assert_int_equal(jk_package_seal("x", 1, &info, k, rk, &pkg, &n, NULL, &e), JK_ERR_INVAL);
    assert_null(pkg);
    assert_int_equal(n, 0);
    uint8_t zero[32] = { 0 };
    assert_memory_equal(rk, zero, 32);
    info.site_id = "";
    assert_int_equal(jk_package_seal("x", 1, &info, k, rk, &pkg, &n, NULL, &e), JK_ERR_INVAL);
    info.site_id = NULL;
    assert_int_equal(jk_package_seal("x", 1, &info, k, rk, &pkg, &n, NULL, &e), JK_ERR_INVAL);
    info = s_info;
    info.sitting_id = "这不是编号";
    assert_int_equal(jk_package_seal("x", 1, &info, k, rk, &pkg, &n, NULL, &e), JK_ERR_INVAL);
    info = s_info;
    info.exam_start_ms = -1;
    assert_int_equal(jk_package_seal("x", 1, &info, k, rk, &pkg, &n, NULL, &e), JK_ERR_RANGE);
    info = s_info;
    /* Over the bound: refused before the buffer is read. */
    assert_int_equal(jk_package_seal("x", (size_t)JK_PACKAGE_PAYLOAD_MAX_BYTES + 1, &info, k, rk,
                                     &pkg, &n, NULL, &e),
                     JK_ERR_TOO_BIG);
    assert_int_equal(jk_package_seal(NULL, 1, &info, k, rk, &pkg, &n, NULL, &e), JK_ERR_INVAL);
    assert_int_equal(jk_package_seal("x", 1, &info, NULL, rk, &pkg, &n, NULL, &e), JK_ERR_INVAL);

    /* A verify-only key can't seal. */
    char pub[1024];
    s_path(pub, sizeof pub, "seal.pub");
    assert_int_equal(jk_package_key_save_public(k, pub, &e), JK_OK);
    jk_package_key_t *pk = jk_package_key_load_public(pub, &e);
    assert_non_null(pk);
    assert_int_equal(jk_package_seal("x", 1, &info, pk, rk, &pkg, &n, NULL, &e), JK_ERR_STATE);
    jk_package_key_destroy(&pk);
    jk_package_key_destroy(&k);
    unlink(pub);
}

/* ---- key files ---- */

static void test_key_files(void **state)
{
    (void)state;
    jk_error_t e;
    char priv[1024], pub[1024];
    s_path(priv, sizeof priv, "center.key");
    s_path(pub, sizeof pub, "center.pub");
    jk_package_key_t *k = jk_package_key_generate(&e);
    assert_non_null(k);
    assert_true(jk_package_key_has_private(k));
    const char *id = jk_package_key_id(k);
    assert_int_equal(strlen(id), JK_PACKAGE_KEY_ID_HEX);
    for (const char *p = id; *p; p++)
        assert_non_null(strchr("0123456789abcdef", *p));

    /* Exact modes whatever the umask. */
    mode_t old = umask(0);
    assert_int_equal(jk_package_key_save_private(k, priv, &e), JK_OK);
    umask(077);
    assert_int_equal(jk_package_key_save_public(k, pub, &e), JK_OK);
    umask(old);
    assert_int_equal(s_mode_of(priv), 0600);
    assert_int_equal(s_mode_of(pub), 0644);
    assert_true(s_no_temp_files());

    /* The key id is the first bytes of SHA-256(raw public key), in hex. */
    {
        FILE *pf = fopen(pub, "r");
        assert_non_null(pf);
        EVP_PKEY *pk = PEM_read_PUBKEY(pf, NULL, NULL, NULL);
        fclose(pf);
        assert_non_null(pk);
        uint8_t raw[32], md[32];
        size_t raw_len = sizeof raw;
        unsigned int md_len = 0;
        assert_int_equal(EVP_PKEY_get_raw_public_key(pk, raw, &raw_len), 1);
        assert_int_equal(EVP_Digest(raw, raw_len, md, &md_len, EVP_sha256(), NULL), 1);
        EVP_PKEY_free(pk);
        char want[JK_PACKAGE_KEY_ID_HEX + 1];
        for (unsigned i = 0; i < JK_PACKAGE_KEY_ID_HEX / 2; i++)
            snprintf(want + 2 * i, 3, "%02x", md[i]);
        assert_string_equal(id, want);
    }

    uint8_t *text = NULL;
    size_t len = 0;
    assert_int_equal(jk_package_file_read(priv, 16384, &text, &len, &e), JK_OK);
    assert_true(strncmp((char *)text, "-----BEGIN PRIVATE KEY-----", 27) == 0);
    free(text);
    assert_int_equal(jk_package_file_read(pub, 16384, &text, &len, &e), JK_OK);
    assert_true(strncmp((char *)text, "-----BEGIN PUBLIC KEY-----", 26) == 0);
    assert_null(strstr((char *)text, "PRIVATE"));

    /* The key id is SHA-256 of the raw public key, first 8 bytes, hex. */
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *ossl = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(ossl);
    uint8_t raw[32], md[32];
    size_t rl = sizeof raw;
    unsigned int ml = 0;
    assert_int_equal(EVP_PKEY_get_raw_public_key(ossl, raw, &rl), 1);
    assert_int_equal(EVP_Digest(raw, rl, md, &ml, EVP_sha256(), NULL), 1);
    char want[17];
    for (int i = 0; i < 8; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(id, want);
    EVP_PKEY_free(ossl);

    jk_package_key_t *kp = jk_package_key_parse_public((char *)text, len, &e);
    assert_non_null(kp);
    assert_string_equal(jk_package_key_id(kp), id);
    jk_package_key_destroy(&kp);
    free(text);

    /* Load both back and use them across: seal with the loaded private key,
     * verify with the loaded public key. */
    jk_package_key_t *lpriv = jk_package_key_load_private(priv, &e);
    assert_non_null(lpriv);
    assert_true(jk_package_key_has_private(lpriv));
    assert_string_equal(jk_package_key_id(lpriv), id);
    jk_package_key_t *lpub = jk_package_key_load_public(pub, &e);
    assert_non_null(lpub);
    assert_false(jk_package_key_has_private(lpub));
    assert_string_equal(jk_package_key_id(lpub), id);
    uint8_t rk[32];
    size_t n;
    uint8_t *pkg = s_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), lpriv, rk, &n, NULL);
    assert_int_equal(jk_package_verify(pkg, n, lpub, NULL, &e), JK_OK);
    assert_int_equal(jk_package_verify(pkg, n, k, NULL, &e), JK_OK);
    free(pkg);

    /* A public key can't be saved as private; can be saved as public. */
    char other[1024];
    s_path(other, sizeof other, "other.key");
    assert_int_equal(jk_package_key_save_private(lpub, other, &e), JK_ERR_STATE);
    assert_int_equal(access(other, F_OK), -1);

    /* A private key file others can read is refused. */
    assert_int_equal(chmod(priv, 0640), 0);
    assert_null(jk_package_key_load_private(priv, &e));
    assert_int_equal(e.code, JK_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "0600"));
    assert_int_equal(chmod(priv, 0400), 0); /* read-only for the owner is fine */
    jk_package_key_t *ro = jk_package_key_load_private(priv, &e);
    assert_non_null(ro);
    jk_package_key_destroy(&ro);

    /* Wrong kinds of file. */
    assert_null(jk_package_key_load_public(priv, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);
    assert_int_equal(chmod(pub, 0600), 0);
    assert_null(jk_package_key_load_private(pub, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);
    s_path(other, sizeof other, "missing.key");
    assert_null(jk_package_key_load_private(other, &e));
    assert_int_equal(e.code, JK_ERR_IO);
    assert_null(jk_package_key_load_public(s_dir, &e)); /* a directory */
    assert_int_equal(e.code, JK_ERR_IO);
    assert_null(jk_package_key_parse_public("junk", 4, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);

    jk_package_key_destroy(&lpriv);
    jk_package_key_destroy(&lpub);
    jk_package_key_destroy(&k);
    unlink(priv);
    unlink(pub);
}

/* Key files not made by us: encrypted (must be refused, never prompted
 * for), and not Ed25519. */
static void test_foreign_key_files(void **state)
{
    (void)state;
    jk_error_t e;
    char enc[1024], ec[1024], ecpub[1024];
    s_path(enc, sizeof enc, "enc.key");
    s_path(ec, sizeof ec, "ec.key");
    s_path(ecpub, sizeof ecpub, "ec.pub");

    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(ed);
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, ed, EVP_aes_256_cbc(), NULL, 0, NULL,
                                                   (void *)"secret"),
                     1);
    BUF_MEM *bm = NULL;
    BIO_get_mem_ptr(b, &bm);
    assert_int_equal(jk_package_file_write(enc, bm->data, bm->length, 0600, &e), JK_OK);
    BIO_free(b);
    EVP_PKEY_free(ed);
    assert_null(jk_package_key_load_private(enc, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);

    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(p256);
    b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, p256, NULL, NULL, 0, NULL, NULL), 1);
    BIO_get_mem_ptr(b, &bm);
    assert_int_equal(jk_package_file_write(ec, bm->data, bm->length, 0600, &e), JK_OK);
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(b, p256), 1);
    BIO_get_mem_ptr(b, &bm);
    assert_int_equal(jk_package_file_write(ecpub, bm->data, bm->length, 0644, &e), JK_OK);
    BIO_free(b);
    EVP_PKEY_free(p256);
    assert_null(jk_package_key_load_private(ec, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);
    assert_non_null(strstr(e.msg, "Ed25519"));
    assert_null(jk_package_key_load_public(ecpub, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);
    unlink(enc);
    unlink(ec);
    unlink(ecpub);
}

/* ---- release key text ---- */

static void test_release_key_text(void **state)
{
    (void)state;
    jk_error_t e;
    uint8_t key[32], back[32], zero[32] = { 0 };
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 37 + 5);
    char text[JK_RELEASE_KEY_TEXT_BYTES];
    jk_release_key_format(key, text);
    assert_int_equal(strlen(text), 64);
    assert_string_equal(text, "052a4f74"
                              "99bee308"
                              "2d52779c"
                              "c1e60b30"
                              "557a9fc4"
                              "e90e3358"
                              "7da2c7ec"
                              "11365b80");
    assert_int_equal(jk_release_key_parse(text, back, &e), JK_OK);
    assert_memory_equal(key, back, 32);

    char upper[80];
    for (int i = 0; i <= 64; i++)
        upper[i] = (char)(text[i] >= 'a' && text[i] <= 'f' ? text[i] - 32 : text[i]);
    assert_int_equal(jk_release_key_parse(upper, back, &e), JK_OK);
    assert_memory_equal(key, back, 32);
    snprintf(upper, sizeof upper, "  %s\r\n", text);
    assert_int_equal(jk_release_key_parse(upper, back, &e), JK_OK);
    assert_memory_equal(key, back, 32);

    /* base64 (made with OpenSSL's encoder). */
    unsigned char b64[64];
    assert_int_equal(EVP_EncodeBlock(b64, key, 32), 44);
    assert_int_equal(jk_release_key_parse((char *)b64, back, &e), JK_OK);
    assert_memory_equal(key, back, 32);

    static const char *const bad[] = {
        "",
        "052a4f7499bee3082d52779cc1e60b30557a9fc4e90e33587da2c7ec11365b8",   /* 63 */
        "052a4f7499bee3082d52779cc1e60b30557a9fc4e90e33587da2c7ec11365b800", /* 65 */
        "g52a4f7499bee3082d52779cc1e60b30557a9fc4e90e33587da2c7ec11365b80",
        "052a4f7499bee3082d52 79cc1e60b30557a9fc4e90e33587da2c7ec11365b80",
        "BSpPdJm+4wgtUnecweYLMFV6n8TpDjNYfaLH7BE2W4A",   /* no padding */
        "BSpPdJm+4wgtUnecweYLMFV6n8TpDjNYfaLH7BE2W4B=",  /* non-zero pad bits */
        "BSpPdJm+4wgtUnecweYLMFV6n8TpDjNYfaLH7BE2=4A=",  /* '=' inside */
        "BSpPdJm+4wgtUnecweYLMFV6n8TpDjNYfaLH7BE2",      /* 30 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(back, 0x55, sizeof back);
        if (jk_release_key_parse(bad[i], back, &e) != JK_ERR_PARSE)
            fail_msg("accepted bad key text %zu", i);
        assert_memory_equal(back, zero, 32);
        if (bad[i][0])
            assert_null(strstr(e.msg, bad[i]));
    }
    assert_string_equal((char *)b64, "BSpPdJm+4wgtUnecweYLMFV6n8TpDjNYfaLH7BE2W4A=");
    assert_int_equal(jk_release_key_parse(NULL, back, &e), JK_ERR_INVAL);
}

/* ---- keys file ---- */

static void test_keys_file(void **state)
{
    (void)state;
    jk_error_t e;
    char path[1024];
    s_path(path, sizeof path, "keys.json");
    jk_package_key_t *k = jk_package_key_generate(&e);
    jk_package_keys_t *keys = jk_package_keys_new();
    assert_non_null(keys);

    static const char *const sites[] = { "site-0001", "site-0002", "site.0003:b" };
    uint8_t *pkgs[3];
    size_t lens[3];
    uint8_t rks[3][32];
    jk_package_header_t hs[3];
    for (int i = 0; i < 3; i++) {
        jk_package_info_t info = s_info;
        info.site_id = sites[i];
        assert_int_equal(jk_package_seal(T_SMALL_PAYLOAD, strlen(T_SMALL_PAYLOAD), &info, k,
                                         rks[i], &pkgs[i], &lens[i], &hs[i], &e),
                         JK_OK);
        assert_int_equal(jk_package_keys_add(keys, &hs[i], rks[i], &e), JK_OK);
    }
    assert_int_equal(jk_package_keys_add(keys, &hs[1], rks[1], &e), JK_ERR_DUP);
    jk_package_header_t same_site = hs[1];
    same_site.package_id[0] = same_site.package_id[0] == '0' ? '1' : '0';
    assert_int_equal(jk_package_keys_add(keys, &same_site, rks[1], &e), JK_ERR_DUP);
    assert_int_equal(jk_package_keys_count(keys), 3);

    mode_t old = umask(0);
    assert_int_equal(jk_package_keys_save(keys, path, &e), JK_OK);
    umask(old);
    assert_int_equal(s_mode_of(path), 0600);
    assert_true(s_no_temp_files());
    jk_package_keys_destroy(&keys);
    assert_null(keys);

    jk_package_keys_t *loaded = jk_package_keys_load(path, &e);
    if (!loaded)
        fail_msg("%s", e.msg);
    assert_int_equal(jk_package_keys_count(loaded), 3);
    for (int i = 0; i < 3; i++) {
        const jk_package_keys_entry_t *en = jk_package_keys_get(loaded, (size_t)i);
        assert_non_null(en);
        assert_string_equal(en->package_id, hs[i].package_id);
        assert_string_equal(en->sitting_id, s_info.sitting_id);
        assert_string_equal(en->site_id, sites[i]);
        assert_string_equal(en->key_id, jk_package_key_id(k));
        assert_memory_equal(en->release_key, rks[i], 32);
        assert_ptr_equal(jk_package_keys_find(loaded, s_info.sitting_id, sites[i]), en);
        assert_ptr_equal(jk_package_keys_find_package(loaded, hs[i].package_id), en);
        /* The loaded key opens its package. */
        uint8_t *out = NULL;
        size_t ol = 0;
        assert_int_equal(jk_package_open(pkgs[i], lens[i], k, en->release_key, NULL, &out, &ol,
                                         &e),
                         JK_OK);
        free(out);
        free(pkgs[i]);
    }
    assert_null(jk_package_keys_get(loaded, 3));
    assert_null(jk_package_keys_find(loaded, "other", sites[0]));
    assert_null(jk_package_keys_find_package(loaded, "nope"));
    jk_package_keys_destroy(&loaded);

    /* Group-readable: refused. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_null(jk_package_keys_load(path, &e));
    assert_int_equal(e.code, JK_ERR_CONFIG);

    /* Empty set round trip. */
    keys = jk_package_keys_new();
    assert_int_equal(jk_package_keys_save(keys, path, &e), JK_OK);
    assert_int_equal(s_mode_of(path), 0600); /* replaced with the new mode */
    jk_package_keys_destroy(&keys);
    loaded = jk_package_keys_load(path, &e);
    assert_non_null(loaded);
    assert_int_equal(jk_package_keys_count(loaded), 0);
    jk_package_keys_destroy(&loaded);

    /* Many entries (grows the array several times). */
    keys = jk_package_keys_new();
    for (int i = 0; i < 300; i++) {
        jk_package_header_t h = hs[0];
        snprintf(h.site_id, sizeof h.site_id, "site-%04d", i);
        snprintf(h.package_id, sizeof h.package_id, "%032x", i);
        uint8_t rk[32];
        memset(rk, i & 0xFF, sizeof rk);
        assert_int_equal(jk_package_keys_add(keys, &h, rk, &e), JK_OK);
    }
    assert_int_equal(jk_package_keys_save(keys, path, &e), JK_OK);
    jk_package_keys_destroy(&keys);
    loaded = jk_package_keys_load(path, &e);
    assert_non_null(loaded);
    assert_int_equal(jk_package_keys_count(loaded), 300);
    assert_int_equal(jk_package_keys_find(loaded, s_info.sitting_id, "site-0299")->release_key[0],
                     299 & 0xFF);
    jk_package_keys_destroy(&loaded);
    jk_package_keys_destroy(NULL);

    jk_package_key_destroy(&k);
    unlink(path);
}

static void test_keys_file_hostile(void **state)
{
    (void)state;
    jk_error_t e;
    char path[1024];
    s_path(path, sizeof path, "bad-keys.json");
#define T_ENTRY(pid, site, rk)                                                                   \
    "{\"package_id\":\"" pid "\",\"sitting_id\":\"S1\",\"site_id\":\"" site                       \
    "\",\"key_id\":\"0123456789abcdef\",\"release_key\":\"" rk "\"}"
#define T_PID "0123456789abcdef0123456789abcdef"
#define T_RK "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define T_HEAD "{\"format\":\"jikao-package-keys\",\"format_version\":"
    static const struct {
        const char *text;
        jk_err_t want;
    } cases[] = {
        { "not json", JK_ERR_PARSE },
        { "[]", JK_ERR_PARSE },
        { "{\"format\":\"other\",\"format_version\":1,\"packages\":[]}", JK_ERR_VERSION },
        { T_HEAD "2,\"packages\":[]}", JK_ERR_VERSION },
        { T_HEAD "1}", JK_ERR_MISSING },
        { T_HEAD "1,\"packages\":{}}", JK_ERR_PARSE },
        { T_HEAD "1,\"packages\":[1]}", JK_ERR_PARSE },
        { T_HEAD "1,\"packages\":[" T_ENTRY(T_PID, "s1", "0011") "]}", JK_ERR_PARSE },
        { T_HEAD "1,\"packages\":[" T_ENTRY("0123", "s1", T_RK) "]}", JK_ERR_PARSE },
        { T_HEAD "1,\"packages\":[" T_ENTRY(T_PID, "s 1", T_RK) "]}", JK_ERR_PARSE },
        { T_HEAD "1,\"packages\":[" T_ENTRY(T_PID, "s1", T_RK) "," T_ENTRY(T_PID, "s2", T_RK) "]}",
          JK_ERR_DUP },
        { T_HEAD "1,\"packages\":[{\"package_id\":\"" T_PID "\",\"x\":1}]}", JK_ERR_PARSE },
        { T_HEAD "1,\"packages\":[{\"package_id\":\"" T_PID "\"}]}", JK_ERR_MISSING },
        { "{\"format\":\"jikao-package-keys\",\"format\":\"x\",\"format_version\":1,"
          "\"packages\":[]}",
          JK_ERR_PARSE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_write_text(path, cases[i].text, 0600);
        jk_package_keys_t *k = jk_package_keys_load(path, &e);
        if (k || e.code != cases[i].want)
            fail_msg("case %zu: got %s (%s)", i, jk_strerror(e.code), e.msg);
        assert_non_null(strstr(e.msg, path));
    }
    /* The good one, for contrast. */
    s_write_text(path,
                 T_HEAD "1,\"packages\":[" T_ENTRY(T_PID, "s1", T_RK) "]}",
                 0600);
    jk_package_keys_t *k = jk_package_keys_load(path, &e);
    assert_non_null(k);
    assert_int_equal(jk_package_keys_get(k, 0)->release_key[1], 0x11);
    jk_package_keys_destroy(&k);
    unlink(path);
}

/* ---- file helpers ---- */

static void test_file_helpers(void **state)
{
    (void)state;
    jk_error_t e;
    char path[1024], nodir[1024];
    s_path(path, sizeof path, "data.bin");
    s_path(nodir, sizeof nodir, "no-such-dir/data.bin");

    assert_int_equal(jk_package_file_write(path, "hello", 5, 0640, &e), JK_OK);
    assert_int_equal(s_mode_of(path), 0640);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(jk_package_file_read(path, 5, &buf, &len, &e), JK_OK);
    assert_int_equal(len, 5);
    assert_string_equal((char *)buf, "hello"); /* NUL-terminated */
    free(buf);
    assert_int_equal(jk_package_file_read(path, 4, &buf, &len, &e), JK_ERR_TOO_BIG);
    assert_null(buf);

    /* Replace, with a different mode; empty content is fine. */
    assert_int_equal(jk_package_file_write(path, NULL, 0, 0600, &e), JK_OK);
    assert_int_equal(s_mode_of(path), 0600);
    assert_int_equal(jk_package_file_read(path, 5, &buf, &len, &e), JK_OK);
    assert_int_equal(len, 0);
    assert_non_null(buf);
    free(buf);

    assert_int_equal(jk_package_file_write(nodir, "x", 1, 0600, &e), JK_ERR_IO);
    assert_non_null(strstr(e.msg, "no-such-dir"));
    assert_int_equal(jk_package_file_read(nodir, 5, &buf, &len, &e), JK_ERR_IO);
    assert_int_equal(jk_package_file_read(s_dir, 5, &buf, &len, &e), JK_ERR_IO);
    assert_int_equal(jk_package_file_write(path, "x", 1, 010000, &e), JK_ERR_INVAL);
    assert_int_equal(jk_package_file_write(NULL, "x", 1, 0600, &e), JK_ERR_INVAL);
    assert_true(s_no_temp_files());
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_empty),
        cmocka_unit_test(test_round_trip_1mib),
        cmocka_unit_test(test_flip_every_byte_small),
        cmocka_unit_test(test_flip_sampled_large),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_magic_and_lengths),
        cmocka_unit_test(test_wrong_public_key),
        cmocka_unit_test(test_wrong_release_key),
        cmocka_unit_test(test_signed_bad_headers),
        cmocka_unit_test(test_seal_arguments),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_foreign_key_files),
        cmocka_unit_test(test_release_key_text),
        cmocka_unit_test(test_keys_file),
        cmocka_unit_test(test_keys_file_hostile),
        cmocka_unit_test(test_file_helpers),
    };
    return cmocka_run_group_tests(tests, s_setup_dir, s_teardown_dir);
}
