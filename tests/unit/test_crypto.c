/* Unit tests for jk_crypto: published test vectors, and agreement with
 * OpenSSL's one-shot functions on many lengths and keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jk_crypto.h"

static void s_unhex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void s_assert_hex(const uint8_t *got, const char *want)
{
    uint8_t w[JK_SHA256_LEN];
    s_unhex(want, w, sizeof w);
    assert_memory_equal(got, w, sizeof w);
}

/* FIPS 180-2 examples. */
static void test_sha256_vectors(void **state)
{
    (void)state;
    uint8_t out[JK_SHA256_LEN];
    assert_int_equal(jk_sha256("abc", 3, out), JK_OK);
    s_assert_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(jk_sha256(NULL, 0, out), JK_OK);
    s_assert_hex(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(jk_sha256(m, strlen(m), out), JK_OK);
    s_assert_hex(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* RFC 4231 test cases 1, 2, 4 and 6 (the key longer than a block). */
static void test_hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t out[JK_SHA256_LEN], key[131];
    memset(key, 0x0b, 20);
    assert_int_equal(jk_hmac_sha256(key, 20, "Hi There", 8, out), JK_OK);
    s_assert_hex(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    assert_int_equal(jk_hmac_sha256((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, out),
                     JK_OK);
    s_assert_hex(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    for (int i = 0; i < 25; i++)
        key[i] = (uint8_t)(i + 1);
    uint8_t msg[50];
    memset(msg, 0xcd, sizeof msg);
    assert_int_equal(jk_hmac_sha256(key, 25, msg, sizeof msg, out), JK_OK);
    s_assert_hex(out, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");

    memset(key, 0xaa, sizeof key);
    const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_int_equal(jk_hmac_sha256(key, 131, t6, strlen(t6), out), JK_OK);
    s_assert_hex(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* The same as OpenSSL's HMAC() for every message length 0..300 and key
 * lengths 0, 1, 32, 64, 65; the two-piece form equals the joined one. */
static void test_hmac_agrees_with_openssl(void **state)
{
    (void)state;
    uint8_t msg[300], key[65];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 13 + 1);
    const size_t klens[] = { 0, 1, 32, 64, 65 };
    for (size_t k = 0; k < sizeof klens / sizeof klens[0]; k++)
        for (size_t n = 0; n <= sizeof msg; n++) {
            uint8_t a[JK_SHA256_LEN], b[JK_SHA256_LEN], c[JK_SHA256_LEN];
            unsigned int bl = 0;
            assert_int_equal(jk_hmac_sha256(key, klens[k], msg, n, a), JK_OK);
            assert_non_null(HMAC(EVP_sha256(), key, (int)klens[k], msg, n, b, &bl));
            assert_memory_equal(a, b, sizeof a);
            assert_int_equal(jk_hmac_sha256_2(key, klens[k], msg, n / 3, msg + n / 3, n - n / 3, c),
                             JK_OK);
            assert_memory_equal(a, c, sizeof a);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_agrees_with_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
