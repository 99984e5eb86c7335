/*
 * jk_strmap: a map from strings to size_t values (open addressing, linear
 * probing, FNV-1a hash), for id lookups: items of a bank, requirement refs,
 * candidates of a sitting. Keys are borrowed: they must outlive the map (they
 * usually live in an arena next to it). No removal: these maps are built once
 * and read many times.
 */
#ifndef JK_STRMAP_H
#define JK_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jk_strmap jk_strmap_t;

jk_strmap_t *jk_strmap_new(size_t expected);
void jk_strmap_destroy(jk_strmap_t **m);

/* Inserts key -> value. Returns 1 if inserted, 0 if the key was already
 * present (its value is left alone and *existing, if given, receives it),
 * -1 when out of memory. */
int jk_strmap_put(jk_strmap_t *m, const char *key, size_t value, size_t *existing);
/* Finds key; returns true and sets *value when present. */
bool jk_strmap_get(const jk_strmap_t *m, const char *key, size_t *value);
size_t jk_strmap_count(const jk_strmap_t *m);

uint64_t jk_hash_bytes(const void *p, size_t n);

#endif
