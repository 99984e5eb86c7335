/*
 * jk_crypto: SHA-256 and HMAC-SHA256 with the algorithm fetched once; see
 * jk_crypto.h.
 *
 * HMAC is RFC 2104 over the fetched SHA-256, with a digest context kept per
 * thread and reused: EVP_MAC's per-call context set-up (duplicate, key,
 * free) cost more than the hashing itself for our message sizes. The unit
 * test checks it against OpenSSL's HMAC() and the RFC 4231 vectors.
 */
#include "jk_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define S_BLOCK 64 /* SHA-256's block size */

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static pthread_key_t s_ctx_key;
static EVP_MD *s_md;

static void s_ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

static void s_fetch(void)
{
    s_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    if (pthread_key_create(&s_ctx_key, s_ctx_free) != 0) {
        EVP_MD_free(s_md);
        s_md = NULL;
    }
}

/* This thread's digest context (made on first use), or NULL. */
static EVP_MD_CTX *s_ctx(void)
{
    pthread_once(&s_once, s_fetch);
    if (!s_md)
        return NULL;
    EVP_MD_CTX *ctx = pthread_getspecific(s_ctx_key);
    if (!ctx) {
        ctx = EVP_MD_CTX_new();
        if (ctx && pthread_setspecific(s_ctx_key, ctx) != 0) {
            EVP_MD_CTX_free(ctx);
            ctx = NULL;
        }
    }
    return ctx;
}

static bool s_digest(EVP_MD_CTX *ctx, const void *a, size_t na, const void *b, size_t nb,
                     const void *c, size_t nc, uint8_t out[JK_SHA256_LEN])
{
    unsigned int len = 0;
    return EVP_DigestInit_ex(ctx, s_md, NULL) == 1 && (!na || EVP_DigestUpdate(ctx, a, na) == 1) &&
           (!nb || EVP_DigestUpdate(ctx, b, nb) == 1) && (!nc || EVP_DigestUpdate(ctx, c, nc) == 1) &&
           EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == JK_SHA256_LEN;
}

jk_err_t jk_sha256(const void *msg, size_t n, uint8_t out[JK_SHA256_LEN])
{
    EVP_MD_CTX *ctx = s_ctx();
    if (ctx && s_digest(ctx, msg, n, NULL, 0, NULL, 0, out))
        return JK_OK;
    memset(out, 0, JK_SHA256_LEN);
    return JK_ERR_CRYPTO;
}

jk_err_t jk_hmac_sha256_2(const uint8_t *key, size_t key_len, const void *msg1, size_t n1,
                          const void *msg2, size_t n2, uint8_t out[JK_SHA256_LEN])
{
    EVP_MD_CTX *ctx = s_ctx();
    uint8_t k[S_BLOCK] = { 0 }, pad[S_BLOCK], inner[JK_SHA256_LEN];
    bool ok = ctx != NULL;
    /* A key longer than a block is replaced by its hash; it is never copied
     * into k, even when there is no context to hash it with. */
    if (key_len > S_BLOCK) {
        if (ok)
            ok = s_digest(ctx, key, key_len, NULL, 0, NULL, 0, k);
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    for (int i = 0; i < S_BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    ok = ok && s_digest(ctx, pad, S_BLOCK, msg1, n1, msg2, n2, inner);
    for (int i = 0; i < S_BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    ok = ok && s_digest(ctx, pad, S_BLOCK, inner, sizeof inner, NULL, 0, out);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
    if (ok)
        return JK_OK;
    memset(out, 0, JK_SHA256_LEN);
    return JK_ERR_CRYPTO;
}

jk_err_t jk_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t n,
                        uint8_t out[JK_SHA256_LEN])
{
    return jk_hmac_sha256_2(key, key_len, msg, n, NULL, 0, out);
}
