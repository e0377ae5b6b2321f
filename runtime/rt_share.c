/*
 * rt_share.c - payloads kept past their handler and shared without a copy
 * (rt_msg_keep, rt_msg_take, rt_msg_buf_hold, rt_send_shared in rt_world.c)
 * and the XXH64 memo a shared buffer carries (rt_msg_xxh64).
 *
 * A queued item is refcounted (rt__qmsg_free drops one owner).  An item a
 * node holds sits on the node's held list and counts in its memory; the
 * node's teardown releases the list, as a crash releases its allocations.
 * A shared send is a small item of its own that references the held one.
 * Holding, releasing and the held list are the holder's thread's; the
 * references and the memo are atomic, since receivers may run on other
 * threads (real world).
 */
#include <stdlib.h>

#include "runtime/rt_internal.h"

_Thread_local struct rt__qmsg *rt__delivering;

/* The item a's handler is handling now (its node's), else NULL. */
static struct rt__qmsg *handling(const struct rt_actor *a)
{
    struct rt__qmsg *q = rt__delivering;
    return q && q->kind == RT__Q_MSG && q->node == a->node->id ? q : NULL;
}

/* What holding q costs its node: its header and payload, as an allocation
 * of that size would (not the large-message pool's rounding). */
static long long held_bytes(const struct rt__qmsg *q)
{
    return (long long)(sizeof(*q) + q->len);
}

/* n's actors hold q from now on: charged to n, released when n goes down. */
static void hold(struct rt_node *n, struct rt__qmsg *q)
{
    rt__mem_charge(&n->pool, held_bytes(q));    /* may crash n: nothing changed yet */
    q->holder = n;
    LIST_INSERT_HEAD(&n->held, q, held);
}

static void unhold(struct rt__qmsg *q, int credit)
{
    if (credit)
        rt__mem_charge(&q->holder->pool, -held_bytes(q));
    LIST_REMOVE(q, held);
    q->holder = NULL;
    rt__qmsg_free(q);
}

void *rt_msg_keep(struct rt_actor *a, const struct rt_msg *m)
{
    struct rt__qmsg *q = handling(a);
    if (!q || q->shared || q->holder || m->data != q->data)
        return NULL;
    hold(a->node, q);
    atomic_fetch_add_explicit(&q->refs, 1, memory_order_relaxed);   /* the delivery's own stays */
    return q->data;
}

void *rt_msg_take(struct rt_actor *a, const struct rt_msg *m)
{
    struct rt__qmsg *q = handling(a);
    if (!q || q->shared || q->holder || m->data != q->data)
        return NULL;
    atomic_fetch_add_explicit(&q->refs, 1, memory_order_relaxed);
    return q->data;
}

void rt_msg_buf_hold(struct rt_actor *a, void *buf)
{
    hold(a->node, rt__qmsg_of(buf));
}

void *rt_msg_buf_ref(void *buf)
{
    atomic_fetch_add_explicit(&rt__qmsg_of(buf)->refs, 1, memory_order_relaxed);
    return buf;
}

void rt_msg_buf_release(struct rt_actor *a, void *buf)
{
    if (!buf)
        return;
    struct rt__qmsg *q = rt__qmsg_of(buf);
    if (q->holder == a->node)
        unhold(q, 1);
}

uint64_t rt_msg_xxh64(struct rt_actor *a, const struct rt_msg *m, uint32_t off, uint32_t len)
{
    const unsigned char *p = (const unsigned char *)m->data + off;
    struct rt__qmsg *q = handling(a);
    if (!q || m->data != rt__qmsg_payload(q) || (uint64_t)off + len > q->len)
        return XXH64(p, len, 0);
    struct rt__qmsg *buf = q->shared ? q->shared : q;
    if (atomic_load_explicit(&buf->memo_state, memory_order_acquire) == 2 &&
        buf->memo_off == off && buf->memo_len == len)
        return buf->memo_hash;
    uint64_t h = XXH64(p, len, 0);
    int none = 0;
    /* One writer: receivers on other threads may ask at once (real world). */
    if (atomic_compare_exchange_strong_explicit(&buf->memo_state, &none, 1,
                                                memory_order_acq_rel, memory_order_relaxed)) {
        buf->memo_off = off;
        buf->memo_len = len;
        buf->memo_hash = h;
        atomic_store_explicit(&buf->memo_state, 2, memory_order_release);
    }
    return h;
}

void rt__release_held(struct rt_node *n)
{
    while (!LIST_EMPTY(&n->held))
        unhold(LIST_FIRST(&n->held), 0);    /* no credit: the pool is reset next */
}
