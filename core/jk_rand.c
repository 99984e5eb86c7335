/* jk_rand: xoshiro256** (Blackman and Vigna) seeded by splitmix64. */
#include "jk_rand.h"

#include <string.h>

#include "jk_strmap.h"

static uint64_t s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void jk_rand_seed(jk_rand_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = s_splitmix(&x);
}

void jk_rand_seed_str(jk_rand_t *r, uint64_t seed, const char *s)
{
    jk_rand_seed(r, seed ^ jk_hash_bytes(s, strlen(s)));
}

static inline uint64_t s_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t jk_rand_next(jk_rand_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return result;
}

uint64_t jk_rand_below(jk_rand_t *r, uint64_t n)
{
    /* Lemire's multiply-shift with rejection. */
    uint64_t x = jk_rand_next(r);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            x = jk_rand_next(r);
            m = (__uint128_t)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double jk_rand_double(jk_rand_t *r) { return (double)(jk_rand_next(r) >> 11) * 0x1.0p-53; }

void jk_rand_shuffle(jk_rand_t *r, void *base, size_t n, size_t size)
{
    unsigned char tmp[64];
    unsigned char *b = base;
    if (size > sizeof tmp || n < 2)
        return;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)jk_rand_below(r, i + 1);
        if (j == i)
            continue;
        memcpy(tmp, b + i * size, size);
        memcpy(b + i * size, b + j * size, size);
        memcpy(b + j * size, tmp, size);
    }
}
