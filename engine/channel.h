/*
 * channel.h - a bounded ring of record batches from one producer task to
 * one consumer task: the only way records move between tasks.
 *
 * Single producer, single consumer, lock-free.  Slots are claimed and filled
 * in place (no copy on the producer side), published, then read in place and
 * released by the consumer.  A full ring is back pressure: the producer stops
 * consuming its own input until a slot frees up (the credit).
 *
 * Wake-ups follow the machine: one costs ~40 us across cores, so the producer
 * wakes the consumer only when its publish takes the ring from empty to
 * non-empty, and the consumer wakes a producer that found the ring full only
 * once the ring has drained to half: a slow consumer then pays one wake-up
 * per half ring, not one per batch (the producer would otherwise fill the
 * one freed slot and sleep again).  Each side stores its index (or the
 * producer its waiting flag) and then loads the other's (all seq_cst), so at
 * least one of them sees the other and no wake-up is lost.  A consumer that
 * stops short of half without blocking for good cannot exist: it reads until
 * the ring is empty unless it waits on something (an aligned barrier, its
 * own output) that lets it read on later.
 *
 * A channel lives in process memory, not in either node's: either end's node
 * may crash while the other still holds it.  Breaking a channel (a peer is
 * down or unreachable) is sticky and carries a cause.
 */
#ifndef ENG_CHANNEL_H
#define ENG_CHANNEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/eng_record.h"
#include "runtime/rt.h"

#define ENG_MSG_CHAN_WAKE (RT_MSG_USER + 100)   /* payload: uint32_t channel id */
/* Default ring size, in batches.  When the producer sleeps on a full ring,
 * the half it is woken at must keep the consumer busy for longer than the
 * wake-up takes (~40 us), or the consumer runs dry waiting for it.  A keyed
 * sum reads ~230 M records/s: 16 batches (8192 records) last ~36 us, 8 did
 * not.  With 16 slots the bench's keyed job had its sum thread busy 80-91 %
 * of the run and ~1000 context switches; with 32, 93-94 % and ~30. */
#define ENG_CHAN_SLOTS 32
/* The ring size in the sim world, where a wake-up costs no real time and the
 * ring stands only for the buffers in flight between two tasks.  Flink's
 * are 2 exclusive buffers per channel and 8 floating per input gate
 * (taskmanager.network.memory.buffers-per-channel,
 * .floating-buffers-per-gate) of 32 KiB segments: 64 to 320 KiB a channel
 * (Flink docs, deployment/memory/network_mem_tuning.md).  8 batches of
 * ~12 KiB are 96 KiB.  32 held 384 KiB a channel, and a fifth of the default
 * scenario's page faults were ring slots; the library scenarios' figures do
 * not move (their rings seldom fill). */
#define ENG_CHAN_SLOTS_SIM 8

enum eng_slot_kind {
    ENG_SLOT_DATA,          /* batch holds records */
    ENG_SLOT_BARRIER,       /* checkpoint barrier checkpoint_id */
    ENG_SLOT_END,           /* end of input: nothing follows */
};

struct eng_slot {
    uint32_t kind;          /* enum eng_slot_kind */
    uint64_t checkpoint_id;
    uint64_t base;          /* a barrier's eng_trigger.base */
    struct eng_batch batch;
};

struct eng_chan {
    uint32_t id;
    uint32_t mask;                  /* slots - 1 */
    /* The ring holds pointers to slots, allocated when first needed; a
     * claim moves a free one into place (see eng_chan_claim), so a ring
     * touches as many slots as it ever has in flight, not all of them. */
    struct eng_slot **slots;
    /* Padding keeps head and tail on cache lines of their own (no false
     * sharing between the two threads) without asking the allocator for
     * 64-byte alignment. */
    char pad0[64];
    atomic_uint_fast64_t head;      /* next slot the consumer reads */
    char pad1[64];
    atomic_uint_fast64_t tail;      /* next slot the producer writes */
    atomic_int prod_waiting;        /* the producer found the ring full */
    char pad2[64];
    _Atomic rt_addr producer;       /* task actors; 0 until deployed */
    _Atomic rt_addr consumer;
    atomic_int broken;
    char cause[192];                /* written once, before broken is set */
    atomic_uint_fast64_t wakes;     /* wake-up messages sent, both directions */
};

/* A channel with `slots` (a power of two) slots, in process memory.  Any thread. */
struct eng_chan *eng_chan_new(uint32_t id, uint32_t slots);
void eng_chan_free(struct eng_chan *c);

/* Producer: the next free slot to fill in place, or NULL when full (the
 * consumer then wakes the producer once the ring has drained to half). */
struct eng_slot *eng_chan_claim(struct eng_chan *c);
/* Producer: publishes the claimed slot; wakes the consumer (from self) if the
 * ring was empty.  Returns 0, or -EHOSTDOWN when the wake-up found the
 * consumer's node down (the channel is then broken). */
int eng_chan_publish(struct eng_chan *c, struct rt_actor *self);
/* Consumer: the oldest published slot, or NULL when empty. */
struct eng_slot *eng_chan_peek(struct eng_chan *c);
/* Consumer: frees the slot peek returned; wakes a producer that found the
 * ring full once it is down to half. */
void eng_chan_release(struct eng_chan *c, struct rt_actor *self);

/* Marks the channel broken with a cause (first cause wins).  Any thread. */
void eng_chan_break(struct eng_chan *c, const char *cause);
static inline bool eng_chan_is_broken(const struct eng_chan *c)
{
    return atomic_load_explicit(&((struct eng_chan *)c)->broken, memory_order_acquire) == 1;
}

/* Checks that the actor at the other end is alive and reachable from self's
 * node; breaks the channel with a cause naming it when not.  Returns true when
 * the channel is (still) whole. */
bool eng_chan_check_peer(struct eng_chan *c, struct rt_actor *self, rt_addr peer);

#endif
