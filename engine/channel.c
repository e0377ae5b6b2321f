/*
 * channel.c - the SPSC ring between two tasks (see channel.h for the design:
 * in-place slots, wake-ups only on empty -> non-empty and full -> not full).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/channel.h"

struct eng_chan *eng_chan_new(uint32_t id, uint32_t slots)
{
    if (slots == 0 || (slots & (slots - 1)) != 0)
        slots = ENG_CHAN_SLOTS;
    struct eng_chan *c = rt_xcalloc_process(1, sizeof(*c));
    c->id = id;
    c->mask = slots - 1;
    /* Slots themselves come when claimed (eng_chan_claim): a ring is 32
     * batches of 12 KiB, and allocating or zeroing them up front cost every
     * job 384 KiB of page faults per channel, though a small job touches a
     * slot or two. */
    c->slots = rt_xcalloc_process(slots, sizeof(*c->slots));
    return c;
}

void eng_chan_free(struct eng_chan *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i <= c->mask; i++)
        rt_free(c->slots[i]);
    rt_free(c->slots);
    rt_free(c);
}

struct eng_slot *eng_chan_claim(struct eng_chan *c)
{
    uint64_t t = atomic_load_explicit(&c->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&c->head, memory_order_seq_cst);
    if (t - h > c->mask) {
        /* Say we wait, then look again: a release that missed the flag
         * has moved head where this second load sees it. */
        atomic_store_explicit(&c->prod_waiting, 1, memory_order_seq_cst);
        h = atomic_load_explicit(&c->head, memory_order_seq_cst);
        if (t - h > c->mask)
            return NULL;
        atomic_store_explicit(&c->prod_waiting, 0, memory_order_relaxed);
    }
    /*
     * Free positions run from t to h - 1 + size (released last).  A slot
     * exists once some claim needed one: when t has none, the one at the
     * free position released last moves here, so a ring holds as many slots
     * as it ever had in flight at once, and touches no others.  The
     * consumer never reads a free position, and publish (release) hands the
     * pointer over with the slot.
     */
    struct eng_slot **at = &c->slots[t & c->mask];
    for (uint64_t p = h + c->mask; !*at && p > t; p--) {
        struct eng_slot **from = &c->slots[p & c->mask];
        *at = *from;
        *from = NULL;
    }
    if (!*at)
        *at = rt_xmalloc_process(sizeof(**at));     /* written whole before it is read */
    return *at;
}

static void wake(struct eng_chan *c, struct rt_actor *self, rt_addr to, int *rc)
{
    if (!to)
        return;     /* the peer is not deployed yet: it looks at the ring when it starts */
    atomic_fetch_add_explicit(&c->wakes, 1, memory_order_relaxed);
    if (rt_send(self, to, ENG_MSG_CHAN_WAKE, &c->id, sizeof(c->id)) == -EHOSTDOWN) {
        char cause[160];
        snprintf(cause, sizeof(cause), "channel %u: the task at the other end (node %u) is down",
                 c->id, (unsigned)RT_ADDR_NODE(to));
        eng_chan_break(c, cause);
        if (rc)
            *rc = -EHOSTDOWN;
    }
}

int eng_chan_publish(struct eng_chan *c, struct rt_actor *self)
{
    uint64_t t = atomic_load_explicit(&c->tail, memory_order_relaxed);
    atomic_store_explicit(&c->tail, t + 1, memory_order_seq_cst);
    /* The consumer had read everything before this slot: it may be idle. */
    int rc = 0;
    if (atomic_load_explicit(&c->head, memory_order_seq_cst) == t)
        wake(c, self, atomic_load_explicit(&c->consumer, memory_order_acquire), &rc);
    return rc;
}

struct eng_slot *eng_chan_peek(struct eng_chan *c)
{
    uint64_t h = atomic_load_explicit(&c->head, memory_order_relaxed);
    if (atomic_load_explicit(&c->tail, memory_order_acquire) == h)
        return NULL;
    return c->slots[h & c->mask];
}

void eng_chan_release(struct eng_chan *c, struct rt_actor *self)
{
    uint64_t h = atomic_load_explicit(&c->head, memory_order_relaxed);
    atomic_store_explicit(&c->head, h + 1, memory_order_seq_cst);
    /* A waiting producer stays asleep until half the ring is free. */
    if (atomic_load_explicit(&c->prod_waiting, memory_order_seq_cst) &&
        atomic_load_explicit(&c->tail, memory_order_relaxed) - (h + 1) <= (c->mask + 1) / 2 &&
        atomic_exchange_explicit(&c->prod_waiting, 0, memory_order_acq_rel))
        wake(c, self, atomic_load_explicit(&c->producer, memory_order_acquire), NULL);
}

void eng_chan_break(struct eng_chan *c, const char *cause)
{
    int expected = 0;
    /* 2 = being written: the cause is published by the store of 1 below. */
    if (!atomic_compare_exchange_strong(&c->broken, &expected, 2))
        return;
    snprintf(c->cause, sizeof(c->cause), "%s", cause);
    atomic_store_explicit(&c->broken, 1, memory_order_release);
}

bool eng_chan_check_peer(struct eng_chan *c, struct rt_actor *self, rt_addr peer)
{
    if (eng_chan_is_broken(c))
        return false;
    if (!peer)
        return true;
    struct rt_world *w = rt_actor_world(self);
    struct rt_node *n = rt_world_node(w, RT_ADDR_NODE(peer));
    const char *why = NULL;
    if (!n || !rt_addr_alive(w, peer))
        why = "is down";
    else if (!rt_net_reachable(w, rt_node_id(rt_actor_node(self)), rt_node_id(n)) ||
             !rt_net_reachable(w, rt_node_id(n), rt_node_id(rt_actor_node(self))))
        why = "is unreachable (network partition)";
    if (!why)
        return true;
    char cause[160];
    snprintf(cause, sizeof(cause), "channel %u broken: the task at the other end on %s %s",
             c->id, n ? rt_node_name(n) : "?", why);
    eng_chan_break(c, cause);
    return false;
}
