/*
 * jk_arena: a bump allocator for data that lives and dies together (a loaded
 * bank's strings, a paper set). Blocks are malloc'd as needed and freed all
 * at once; single allocations larger than a block get their own block.
 */
#ifndef JK_ARENA_H
#define JK_ARENA_H

#include <stddef.h>

typedef struct jk_arena jk_arena_t;

/* block_size 0 = 64 KiB. Returns NULL when out of memory. */
jk_arena_t *jk_arena_new(size_t block_size);
void jk_arena_destroy(jk_arena_t **a);

/* Memory aligned for any object, or NULL. Never freed individually. */
void *jk_arena_alloc(jk_arena_t *a, size_t size);
void *jk_arena_calloc(jk_arena_t *a, size_t n, size_t size);
/* Copies of strings; NULL in gives NULL out (not an error). */
char *jk_arena_strdup(jk_arena_t *a, const char *s);
char *jk_arena_strndup(jk_arena_t *a, const char *s, size_t n);

/* Bytes handed out and bytes reserved from malloc. */
size_t jk_arena_used(const jk_arena_t *a);
size_t jk_arena_reserved(const jk_arena_t *a);

#endif
