/*
 * cellpool.c - see cellpool.h.
 */
#include "engine/cellpool.h"

#include "runtime/rt_mem.h"

#define CHUNK_CELLS_MIN 64u         /* a pool with a few cells pays 2 KiB (32-byte cells) */
#define CHUNK_CELLS_MAX 4096u       /* 128 KiB */

struct eng_cellpool_chunk {
    struct eng_cellpool_chunk *next;
    uint64_t pad;                   /* cells start 16-byte aligned */
};

void eng_cellpool_init(struct eng_cellpool *p, size_t cell_bytes)
{
    *p = (struct eng_cellpool){ .cell_bytes = cell_bytes };
}

void *eng_cellpool_get(struct eng_cellpool *p)
{
    if (!p->free) {
        uint32_t n = p->next_chunk ? p->next_chunk : CHUNK_CELLS_MIN;
        p->next_chunk = n < CHUNK_CELLS_MAX ? 2 * n : n;
        struct eng_cellpool_chunk *c = rt_xmalloc(sizeof(*c) + (size_t)n * p->cell_bytes);
        c->next = p->chunks;
        p->chunks = c;
        unsigned char *cells = (unsigned char *)(c + 1);
        for (uint32_t i = n; i-- > 0;) {
            *(void **)(cells + (size_t)i * p->cell_bytes) = p->free;
            p->free = cells + (size_t)i * p->cell_bytes;
        }
    }
    void *cell = p->free;
    p->free = *(void **)cell;
    return cell;
}

void eng_cellpool_put(struct eng_cellpool *p, void *cell)
{
    *(void **)cell = p->free;
    p->free = cell;
}

void eng_cellpool_free_all(struct eng_cellpool *p)
{
    while (p->chunks) {
        struct eng_cellpool_chunk *next = p->chunks->next;
        rt_free(p->chunks);
        p->chunks = next;
    }
    p->free = NULL;
}
