/*
 * jk_crypto: SHA-256 and HMAC-SHA256 with the algorithms fetched once; see
 * jk_crypto.h.
 *
 * HMAC: a template EVP_MAC_CTX with the digest set is made once; each call
 * duplicates it (which shares the fetched digest instead of fetching it
 * again) and keys the copy.
 */
#include "jk_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static EVP_MD *s_md;
static EVP_MAC *s_mac;
static EVP_MAC_CTX *s_mac_tmpl;

static void s_fetch(void)
{
    s_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    s_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!s_md || !s_mac)
        return;
    s_mac_tmpl = EVP_MAC_CTX_new(s_mac);
    char digest[] = "SHA2-256";
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                            OSSL_PARAM_construct_end() };
    if (s_mac_tmpl && EVP_MAC_CTX_set_params(s_mac_tmpl, params) != 1) {
        EVP_MAC_CTX_free(s_mac_tmpl);
        s_mac_tmpl = NULL;
    }
}

jk_err_t jk_sha256(const void *msg, size_t n, uint8_t out[JK_SHA256_LEN])
{
    pthread_once(&s_once, s_fetch);
    static const uint8_t none[1];
    unsigned int len = 0;
    if (s_md && EVP_Digest(n ? msg : none, n, out, &len, s_md, NULL) == 1 && len == JK_SHA256_LEN)
        return JK_OK;
    memset(out, 0, JK_SHA256_LEN);
    return JK_ERR_CRYPTO;
}

jk_err_t jk_hmac_sha256_2(const uint8_t *key, size_t key_len, const void *msg1, size_t n1,
                          const void *msg2, size_t n2, uint8_t out[JK_SHA256_LEN])
{
    pthread_once(&s_once, s_fetch);
    static const uint8_t none[1];
    EVP_MAC_CTX *ctx = s_mac_tmpl ? EVP_MAC_CTX_dup(s_mac_tmpl) : NULL;
    size_t len = 0;
    bool ok = ctx && EVP_MAC_init(ctx, key_len ? key : none, key_len, NULL) == 1 &&
              (!n1 || EVP_MAC_update(ctx, msg1, n1) == 1) &&
              (!n2 || EVP_MAC_update(ctx, msg2, n2) == 1) &&
              EVP_MAC_final(ctx, out, &len, JK_SHA256_LEN) == 1 && len == JK_SHA256_LEN;
    EVP_MAC_CTX_free(ctx);
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
