/* jk_arena: bump allocator; see jk_arena.h. */
#include "jk_arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_block {
    struct s_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    alignas(max_align_t) unsigned char data[];
} s_block_t;

struct jk_arena {
    s_block_t *head;
    size_t block_size;
    size_t used;
    size_t reserved;
};

jk_arena_t *jk_arena_new(size_t block_size)
{
    jk_arena_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    return a;
}

void jk_arena_destroy(jk_arena_t **pa)
{
    if (!pa || !*pa)
        return;
    s_block_t *b = (*pa)->head;
    while (b) {
        s_block_t *n = b->next;
        free(b);
        b = n;
    }
    free(*pa);
    *pa = NULL;
}

void *jk_arena_alloc(jk_arena_t *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    /* Rounding up and the block header must not wrap: refuse sizes that
     * can't be a block (malloc(sizeof *nb + bs) would be too small). */
    if (size > SIZE_MAX - align - sizeof(s_block_t))
        return NULL;
    size = (size + align - 1) & ~(align - 1);
    if (size == 0)
        size = align;
    s_block_t *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t bs = size > a->block_size ? size : a->block_size;
        s_block_t *nb = malloc(sizeof *nb + bs);
        if (!nb)
            return NULL;
        nb->size = bs;
        nb->used = 0;
        a->reserved += bs;
        if (b && size > a->block_size) {
            /* Oversized: put it behind the current block so the current
             * block's free space stays usable. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    a->used += size;
    return p;
}

void *jk_arena_calloc(jk_arena_t *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = jk_arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *jk_arena_strndup(jk_arena_t *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = jk_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *jk_arena_strdup(jk_arena_t *a, const char *s)
{
    return s ? jk_arena_strndup(a, s, strlen(s)) : NULL;
}

size_t jk_arena_used(const jk_arena_t *a) { return a->used; }
size_t jk_arena_reserved(const jk_arena_t *a) { return a->reserved; }
