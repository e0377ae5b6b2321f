/*
 * rt_mem.c - allocations charged to the node whose code is running.
 *
 * Every block carries a small header naming its pool, so accounting stays
 * right whoever frees it.  With jemalloc each node draws from an arena of its
 * own (created with arenas.create, reused through a free stack): a crash
 * resets the arena and every block the node held is gone in one step.  Without
 * jemalloc (sanitizer builds want libc malloc) a node's blocks sit on a list
 * that the reset walks.  The process pool (code outside any node) is plain
 * malloc with no list, because several threads may use it at once.
 *
 * Thread rules: a node pool is touched only by its node's thread (or, in the
 * sim world, by the thread running the world); bytes/peak are atomics so that
 * reports may read them from anywhere.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_config.h"
#include "runtime/rt_internal.h"

#if MC_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

struct rt__mem_hdr {
    LIST_ENTRY(rt__mem_hdr) link;   /* libc builds, node pools only */
    struct rt__mem_pool *pool;
    size_t size;                    /* charged bytes, header included */
};
_Static_assert(sizeof(struct rt__mem_hdr) % 16 == 0, "header keeps max_align_t alignment");

_Thread_local struct rt__mem_pool *rt__mem_current;
static struct rt__mem_pool process_pool;

#if MC_HAVE_JEMALLOC
/* Arenas are never destroyed, only reset and reused: creating one costs far
 * more than resetting it, and cluster spin-up creates nodes all the time. */
static pthread_mutex_t arena_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned *free_arenas;
static size_t nfree_arenas, cap_free_arenas;

static int arena_get(unsigned *out)
{
    int rc = 0;
    pthread_mutex_lock(&arena_mu);
    if (nfree_arenas > 0) {
        *out = free_arenas[--nfree_arenas];
    } else {
        size_t sz = sizeof(*out);
        rc = mallctl("arenas.create", out, &sz, NULL, 0) ? -ENOMEM : 0;
    }
    pthread_mutex_unlock(&arena_mu);
    return rc;
}

static void arena_put(unsigned arena)
{
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "arena.%u.reset", arena);
    if (mallctl(cmd, NULL, NULL, NULL, 0) != 0)
        abort();        /* invariant: our arenas are explicit and tcache-free */
    pthread_mutex_lock(&arena_mu);
    if (nfree_arenas == cap_free_arenas) {
        cap_free_arenas = cap_free_arenas ? 2 * cap_free_arenas : 16;
        free_arenas = realloc(free_arenas, cap_free_arenas * sizeof(*free_arenas));
        if (!free_arenas)
            abort();
    }
    free_arenas[nfree_arenas++] = arena;
    pthread_mutex_unlock(&arena_mu);
}
#endif

void rt__mem_pool_init(struct rt__mem_pool *p, struct rt_node *node)
{
    atomic_store_explicit(&p->bytes, 0, memory_order_relaxed);
    atomic_store_explicit(&p->peak, 0, memory_order_relaxed);
    LIST_INIT(&p->live);
    p->node = node;
    p->has_arena = 0;
#if MC_HAVE_JEMALLOC
    if (node && arena_get(&p->arena) == 0)
        p->has_arena = 1;
#endif
}

void rt__mem_pool_reset(struct rt__mem_pool *p)
{
#if MC_HAVE_JEMALLOC
    if (p->has_arena) {
        arena_put(p->arena);
        p->has_arena = 0;
    }
#endif
    while (!LIST_EMPTY(&p->live)) {
        struct rt__mem_hdr *h = LIST_FIRST(&p->live);
        LIST_REMOVE(h, link);
        free(h);
    }
    atomic_store_explicit(&p->bytes, 0, memory_order_relaxed);
}

static _Noreturn void oom(size_t size)
{
    fprintf(stderr, "minicluster: out of memory allocating %zu bytes\n", size);
    abort();
}

static void *pool_alloc_in(struct rt__mem_pool *p, size_t size, int zero)
{
    if (size > SIZE_MAX / 2)
        oom(size);
    size_t total = size + sizeof(struct rt__mem_hdr);
    size_t limit = atomic_load_explicit(&p->limit, memory_order_relaxed);
    size_t now = atomic_load_explicit(&p->bytes, memory_order_relaxed);
    if (limit && now + total > limit)
        rt__mem_limit_hit(p, total);

    struct rt__mem_hdr *h;
#if MC_HAVE_JEMALLOC
    if (p->has_arena)
        h = mallocx(total, MALLOCX_ARENA(p->arena) | MALLOCX_TCACHE_NONE |
                           (zero ? MALLOCX_ZERO : 0));
    else
#endif
        h = zero ? calloc(1, total) : malloc(total);
    if (!h)
        oom(size);
    h->pool = p;
    h->size = total;
    if (p->node && !p->has_arena)
        LIST_INSERT_HEAD(&p->live, h, link);
    now = atomic_fetch_add_explicit(&p->bytes, total, memory_order_relaxed) + total;
    if (now > atomic_load_explicit(&p->peak, memory_order_relaxed))
        atomic_store_explicit(&p->peak, now, memory_order_relaxed);
    return h + 1;
}

void rt__mem_charge(struct rt__mem_pool *p, long long bytes)
{
    if (bytes < 0) {
        atomic_fetch_sub_explicit(&p->bytes, (size_t)-bytes, memory_order_relaxed);
        return;
    }
    size_t limit = atomic_load_explicit(&p->limit, memory_order_relaxed);
    size_t now = atomic_load_explicit(&p->bytes, memory_order_relaxed);
    if (limit && now + (size_t)bytes > limit)
        rt__mem_limit_hit(p, (size_t)bytes);
    now = atomic_fetch_add_explicit(&p->bytes, (size_t)bytes, memory_order_relaxed) + (size_t)bytes;
    if (now > atomic_load_explicit(&p->peak, memory_order_relaxed))
        atomic_store_explicit(&p->peak, now, memory_order_relaxed);
}

static void *pool_alloc(size_t size, int zero)
{
    return pool_alloc_in(rt__mem_current ? rt__mem_current : &process_pool, size, zero);
}

void *rt_xmalloc(size_t size)
{
    return pool_alloc(size, 0);
}

void *rt_xmalloc_process(size_t size)
{
    return pool_alloc_in(&process_pool, size, 0);
}

void *rt_xcalloc_process(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / 2 / size)
        oom(SIZE_MAX);
    return pool_alloc_in(&process_pool, n * size, 1);
}

void *rt_xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / 2 / size)
        oom(SIZE_MAX);
    return pool_alloc(n * size, 1);
}

void rt_free(void *ptr)
{
    if (!ptr)
        return;
    struct rt__mem_hdr *h = (struct rt__mem_hdr *)ptr - 1;
    struct rt__mem_pool *p = h->pool;
    atomic_fetch_sub_explicit(&p->bytes, h->size, memory_order_relaxed);
#if MC_HAVE_JEMALLOC
    if (p->has_arena) {
        dallocx(h, MALLOCX_TCACHE_NONE);
        return;
    }
#endif
    if (p->node)
        LIST_REMOVE(h, link);
    free(h);
}

void *rt_xrealloc(void *ptr, size_t size)
{
    if (!ptr)
        return rt_xmalloc(size);
    struct rt__mem_hdr *h = (struct rt__mem_hdr *)ptr - 1;
    size_t old = h->size - sizeof(*h);
    void *n = rt_xmalloc(size);
    memcpy(n, ptr, old < size ? old : size);
    rt_free(ptr);
    return n;
}

char *rt_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(rt_xmalloc(n), s, n);
}
