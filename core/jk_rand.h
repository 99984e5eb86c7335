/*
 * jk_rand: a small, fast, deterministic PRNG (xoshiro256**, seeded through
 * splitmix64) for everything that must be reproducible from a seed: paper
 * assembly, option shuffles, synthetic banks, load generation. Not for keys
 * or secrets (those come from OpenSSL's RAND_bytes).
 */
#ifndef JK_RAND_H
#define JK_RAND_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} jk_rand_t;

void jk_rand_seed(jk_rand_t *r, uint64_t seed);
/* Seeds from a seed and a string (e.g. a candidate id), so each candidate's
 * stream is independent of the order candidates are processed in. */
void jk_rand_seed_str(jk_rand_t *r, uint64_t seed, const char *s);
uint64_t jk_rand_next(jk_rand_t *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t jk_rand_below(jk_rand_t *r, uint64_t n);
/* Uniform double in [0, 1). */
double jk_rand_double(jk_rand_t *r);
/* Fisher–Yates shuffle of n elements of the given size (<= 64 bytes). */
void jk_rand_shuffle(jk_rand_t *r, void *base, size_t n, size_t size);

#endif
