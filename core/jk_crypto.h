/*
 * jk_crypto: SHA-256 and HMAC-SHA256 for the hot paths.
 *
 * OpenSSL 3's one-shot HMAC() and EVP_Digest(EVP_sha256()) look the
 * algorithm up in the provider store on every call (an "implicit fetch"),
 * which costs more than hashing a few hundred bytes. These fetch once per
 * process and reuse the result: every answer event is hashed and
 * authenticated several times on its way (token check, event signature,
 * event hash, re-signature per send), so this is most of examd's and
 * scorerd's crypto cost.
 *
 * Thread-safe (the fetch is done under pthread_once; each thread has its
 * own digest context, freed when the thread ends). Both return JK_OK, or JK_ERR_CRYPTO when OpenSSL fails
 * (the output is then zeroed).
 */
#ifndef JK_CRYPTO_H
#define JK_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "jk_err.h"

#define JK_SHA256_LEN 32

jk_err_t jk_sha256(const void *msg, size_t n, uint8_t out[JK_SHA256_LEN]);

/* HMAC-SHA256 (RFC 2104) of msg under key (any length, 0 allowed). */
jk_err_t jk_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t n,
                        uint8_t out[JK_SHA256_LEN]);

/* The same over two pieces, msg1 || msg2 (a label and an id, say). */
jk_err_t jk_hmac_sha256_2(const uint8_t *key, size_t key_len, const void *msg1, size_t n1,
                          const void *msg2, size_t n2, uint8_t out[JK_SHA256_LEN]);

#endif
