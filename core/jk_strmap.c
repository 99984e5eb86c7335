/* jk_strmap: string -> size_t hash map; see jk_strmap.h. The table is kept
 * at most half full so probes stay short. */
#include "jk_strmap.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key; /* NULL = empty slot */
    uint64_t hash;
    size_t value;
} s_slot_t;

struct jk_strmap {
    s_slot_t *slots;
    size_t cap; /* power of two */
    size_t count;
};

uint64_t jk_hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

jk_strmap_t *jk_strmap_new(size_t expected)
{
    jk_strmap_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    size_t cap = 16;
    while (cap < expected * 2)
        cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    m->cap = cap;
    return m;
}

void jk_strmap_destroy(jk_strmap_t **m)
{
    if (!m || !*m)
        return;
    free((*m)->slots);
    free(*m);
    *m = NULL;
}

static int s_grow(jk_strmap_t *m)
{
    size_t ncap = m->cap * 2;
    s_slot_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t j = m->slots[i].hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int jk_strmap_put(jk_strmap_t *m, const char *key, size_t value, size_t *existing)
{
    if ((m->count + 1) * 2 > m->cap && s_grow(m) < 0)
        return -1;
    uint64_t h = jk_hash_bytes(key, strlen(key));
    size_t j = h & (m->cap - 1);
    while (m->slots[j].key) {
        if (m->slots[j].hash == h && strcmp(m->slots[j].key, key) == 0) {
            if (existing)
                *existing = m->slots[j].value;
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j].key = key;
    m->slots[j].hash = h;
    m->slots[j].value = value;
    m->count++;
    return 1;
}

bool jk_strmap_get(const jk_strmap_t *m, const char *key, size_t *value)
{
    uint64_t h = jk_hash_bytes(key, strlen(key));
    size_t j = h & (m->cap - 1);
    while (m->slots[j].key) {
        if (m->slots[j].hash == h && strcmp(m->slots[j].key, key) == 0) {
            if (value)
                *value = m->slots[j].value;
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return false;
}

size_t jk_strmap_count(const jk_strmap_t *m) { return m->count; }
