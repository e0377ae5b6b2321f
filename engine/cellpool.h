/*
 * cellpool.h - fixed-size cells carved from chunks that double in size (up
 * to a cap) and are reused through a free list; all freed at once.  One
 * owner, no locking.  kstate.c keeps its short blobs (payload descriptors)
 * in one: a malloc and a free per key were a tenth of what declaring state
 * cost a run.
 */
#ifndef ENG_CELLPOOL_H
#define ENG_CELLPOOL_H

#include <stddef.h>
#include <stdint.h>

struct eng_cellpool {
    size_t cell_bytes;          /* >= sizeof(void *), a multiple of 16 keeps cells aligned */
    uint32_t next_chunk;        /* cells in the next chunk; 0: the minimum */
    struct eng_cellpool_chunk *chunks;
    void *free;
};

/* An empty pool of cells of `cell_bytes`; nothing is allocated yet. */
void eng_cellpool_init(struct eng_cellpool *p, size_t cell_bytes);
/* A cell (never NULL; allocation failure aborts, as rt_xmalloc does). */
void *eng_cellpool_get(struct eng_cellpool *p);
/* Gives cell back for reuse. */
void eng_cellpool_put(struct eng_cellpool *p, void *cell);
/* Frees every chunk: all cells become invalid; the pool is empty again. */
void eng_cellpool_free_all(struct eng_cellpool *p);

#endif
