/*
 * rt_msg.c - queued items (messages, timer firings, node calls and control
 * items all travel as struct rt__qmsg), the buffers rt_send_buf hands over,
 * and the FIFO both worlds queue them in.
 *
 * Queued items live outside every node's pool: the sender allocates, the
 * receiver frees, and either may crash in between.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

struct rt__qmsg *rt__qmsg_new(uint32_t len)
{
    struct rt__qmsg *q = calloc(1, sizeof(*q) + len);
    if (!q)
        abort();
    q->len = len;
    return q;
}

/*
 * Large messages (file data, snapshots: megabytes each, one per checkpoint
 * and state file) come from a small pool of power-of-two blocks.  The
 * allocator hands out such sizes as fresh mappings and unmaps them when
 * freed, so each one page-faults its way in again - most of what filling a
 * 16 MB snapshot costs.  The pool keeps at most POOL_KEEP bytes; the rest
 * goes back to the allocator as before.
 */
#define POOL_MIN_SHIFT 20       /* 1 MiB: smaller messages are malloc'd */
#define POOL_MAX_SHIFT 31
#define POOL_KEEP ((size_t)256 << 20)

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rt__qmsg *pool[POOL_MAX_SHIFT + 1];
static size_t pool_bytes;

static unsigned pool_shift(size_t bytes)
{
    unsigned s = POOL_MIN_SHIFT;
    while (((size_t)1 << s) < bytes)
        s++;
    return s;
}

void rt__qmsg_free(struct rt__qmsg *q)
{
    /* The only owner may skip the atomic: nobody else can add a reference
     * to an item only it holds. */
    if (atomic_load_explicit(&q->refs, memory_order_acquire) &&
        atomic_fetch_sub_explicit(&q->refs, 1, memory_order_acq_rel) > 0)
        return;
    if (q->shared)
        rt__qmsg_free(q->shared);
    if (q->kind == RT__Q_OFFLOAD && q->drop)
        q->drop(q->arg);        /* never delivered: see rt_actor_offload */
    if (q->pooled) {
        pthread_mutex_lock(&pool_mu);
        if (pool_bytes + q->pooled <= POOL_KEEP) {
            unsigned s = pool_shift(q->pooled);
            q->next = pool[s];
            pool[s] = q;
            pool_bytes += q->pooled;
            q = NULL;
        }
        pthread_mutex_unlock(&pool_mu);
    }
    free(q);
}

/* A qmsg whose payload the caller writes in full: only the header is
 * cleared, so a large payload is not zeroed first. */
struct rt__qmsg *rt__qmsg_new_uncleared(uint32_t len)
{
    size_t bytes = sizeof(struct rt__qmsg) + len;
    struct rt__qmsg *q = NULL;
    size_t pooled = 0;
    if (bytes >= ((size_t)1 << POOL_MIN_SHIFT)) {
        unsigned s = pool_shift(bytes);
        pooled = bytes = (size_t)1 << s;
        pthread_mutex_lock(&pool_mu);
        if ((q = pool[s]) != NULL) {
            pool[s] = q->next;
            pool_bytes -= pooled;
        }
        pthread_mutex_unlock(&pool_mu);
    }
    if (!q && !(q = malloc(bytes)))
        abort();
    memset(q, 0, sizeof(*q));
    q->len = len;
    q->pooled = pooled;
    return q;
}

struct rt__qmsg *rt__qmsg_of(void *buf)
{
    return (struct rt__qmsg *)((unsigned char *)buf - offsetof(struct rt__qmsg, data));
}

void *rt_msg_buf_new(uint32_t len)
{
    return rt__qmsg_new_uncleared(len)->data;
}

void rt_msg_buf_free(void *buf)
{
    if (buf)
        rt__qmsg_free(rt__qmsg_of(buf));
}

void rt__fifo_push(struct rt__fifo *f, struct rt__qmsg *q)
{
    q->next = NULL;
    if (f->tail)
        f->tail->next = q;
    else
        f->head = q;
    f->tail = q;
}

struct rt__qmsg *rt__fifo_pop(struct rt__fifo *f)
{
    struct rt__qmsg *q = f->head;
    if (q) {
        f->head = q->next;
        if (!f->head)
            f->tail = NULL;
        q->next = NULL;
    }
    return q;
}
