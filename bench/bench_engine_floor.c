/*
 * bench_engine_floor.c - the floors of `bench engine`: bare loops doing the
 * work an engine job does, with nothing of the engine around them.
 *
 * Method.  Each floor generates the records of a sequence source (key =
 * g % keys, value = ts = g) and moves or aggregates them; the clock runs
 * from the first record generated to the last one consumed, thread start-up
 * excluded (the producer thread is created first and spins on a start flag).
 * Every floor ends with a checksum over what arrived, which both proves no
 * record was lost and keeps the compiler from deleting the loops.
 *
 * Threads: the ring floors use two (a producer thread and the caller as the
 * consumer) and spin on the ring indexes; with two cores that is the best
 * case a cross-thread handoff can reach, which is what a floor is for.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_engine.h"
#include "engine/channel.h"
#include "engine/eng_record.h"
#include "engine/kstate.h"
#include "runtime/rt_mem.h"

#define FLOOR_SLOTS ENG_CHAN_SLOTS          /* the engine's default ring size */
#define FLOOR_MASK (FLOOR_SLOTS - 1)
#define FLOOR_MAXP 128                      /* the default max parallelism at p = 1 */

/* One spin of a wait loop.  Every SPIN_YIELD spins the thread yields: on a
 * quiet machine the peer answers long before that, but on a busy one (two
 * cores shared with a build) a peer that lost its core would otherwise have
 * us spin away a whole time slice, and the floor would measure the scheduler. */
#define SPIN_YIELD 4096

static inline void cpu_relax(unsigned *spins)
{
    if (++*spins % SPIN_YIELD == 0) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Fills b with records first .. first+n-1 of the sequence. */
static inline void fill(struct eng_batch *b, uint64_t first, uint32_t n, uint64_t keys)
{
    for (uint32_t j = 0; j < n; j++) {
        uint64_t g = first + j;
        b->rec[j].key = g % keys;
        b->rec[j].value = (int64_t)g;
        b->rec[j].ts = (int64_t)g;
    }
    b->n = n;
}

/* What a consumer folds over every record it reads: sum of values plus sum
 * of keys, compared with the closed form at the end. */
static uint64_t expected_sum(uint64_t records, uint64_t keys)
{
    uint64_t s = records * (records - 1) / 2;   /* values; wraps like the fold does */
    uint64_t full = records / keys, rest = records % keys;
    s += full * (keys * (keys - 1) / 2) + rest * (rest - 1) / 2;
    return s;
}

/* ---- the bare ring ----------------------------------------------------------- */

struct floor_ring {
    struct eng_batch slots[FLOOR_SLOTS];
    char pad0[64];
    atomic_uint_fast64_t head;      /* next slot the consumer reads */
    char pad1[64];
    atomic_uint_fast64_t tail;      /* next slot the producer writes */
    char pad2[64];
    atomic_bool go;
    uint64_t records, keys;
};

static void *ring_producer(void *arg)
{
    unsigned spins = 0;
    struct floor_ring *r = arg;
    while (!atomic_load_explicit(&r->go, memory_order_acquire))
        cpu_relax(&spins);
    uint64_t t = 0, head = 0;
    for (uint64_t g = 0; g < r->records;) {
        /* Reload the consumer's index only when the cached one says full. */
        while (t - head >= FLOOR_SLOTS) {
            head = atomic_load_explicit(&r->head, memory_order_acquire);
            if (t - head >= FLOOR_SLOTS)
                cpu_relax(&spins);
        }
        uint64_t left = r->records - g;
        uint32_t n = left < ENG_BATCH_CAP ? (uint32_t)left : ENG_BATCH_CAP;
        fill(&r->slots[t & FLOOR_MASK], g, n, r->keys);
        g += n;
        atomic_store_explicit(&r->tail, ++t, memory_order_release);
    }
    return NULL;
}

int bench_floor_ring(uint64_t records, uint64_t keys, double *rps)
{
    unsigned spins = 0;
    struct floor_ring *r = rt_xcalloc_process(1, sizeof(*r));
    r->records = records;
    r->keys = keys;
    pthread_t th;
    if (pthread_create(&th, NULL, ring_producer, r) != 0) {
        rt_free(r);
        return -EAGAIN;
    }
    double t0 = bench_now_ms();
    atomic_store_explicit(&r->go, true, memory_order_release);
    uint64_t h = 0, tail = 0, got = 0, sum = 0;
    while (got < records) {
        while (tail == h) {
            tail = atomic_load_explicit(&r->tail, memory_order_acquire);
            if (tail == h)
                cpu_relax(&spins);
        }
        const struct eng_batch *b = &r->slots[h & FLOOR_MASK];
        for (uint32_t j = 0; j < b->n; j++)
            sum += b->rec[j].key + (uint64_t)b->rec[j].value;
        got += b->n;
        atomic_store_explicit(&r->head, ++h, memory_order_release);
    }
    double ms = bench_now_ms() - t0;
    pthread_join(th, NULL);
    rt_free(r);
    *rps = (double)records / (ms / 1000.0);
    return sum == expected_sum(records, keys) ? 0 : -EPROTO;
}

/* ---- the engine's channel in the same loops ----------------------------------- */

struct floor_chan {
    struct eng_chan *c;
    atomic_bool go;
    uint64_t records, keys;
};

static void *chan_producer(void *arg)
{
    unsigned spins = 0;
    struct floor_chan *f = arg;
    while (!atomic_load_explicit(&f->go, memory_order_acquire))
        cpu_relax(&spins);
    for (uint64_t g = 0; g < f->records;) {
        struct eng_slot *s;
        while (!(s = eng_chan_claim(f->c)))
            cpu_relax(&spins);
        uint64_t left = f->records - g;
        uint32_t n = left < ENG_BATCH_CAP ? (uint32_t)left : ENG_BATCH_CAP;
        s->kind = ENG_SLOT_DATA;
        fill(&s->batch, g, n, f->keys);
        g += n;
        eng_chan_publish(f->c, NULL);   /* no consumer actor: no wake-up is sent */
    }
    return NULL;
}

int bench_floor_chan(uint64_t records, uint64_t keys, double *rps)
{
    unsigned spins = 0;
    struct floor_chan f = { .c = eng_chan_new(0, ENG_CHAN_SLOTS), .records = records,
                            .keys = keys };
    pthread_t th;
    if (pthread_create(&th, NULL, chan_producer, &f) != 0) {
        eng_chan_free(f.c);
        return -EAGAIN;
    }
    double t0 = bench_now_ms();
    atomic_store_explicit(&f.go, true, memory_order_release);
    uint64_t got = 0, sum = 0;
    while (got < records) {
        struct eng_slot *s;
        while (!(s = eng_chan_peek(f.c)))
            cpu_relax(&spins);
        for (uint32_t j = 0; j < s->batch.n; j++)
            sum += s->batch.rec[j].key + (uint64_t)s->batch.rec[j].value;
        got += s->batch.n;
        eng_chan_release(f.c, NULL);
    }
    double ms = bench_now_ms() - t0;
    pthread_join(th, NULL);
    eng_chan_free(f.c);
    *rps = (double)records / (ms / 1000.0);
    return sum == expected_sum(records, keys) ? 0 : -EPROTO;
}

/* ---- hash aggregation ------------------------------------------------------------ */

struct agg_slot {
    uint64_t key1;      /* key + 1; 0 marks an empty slot */
    int64_t sum;
};

int bench_floor_hashagg(uint64_t records, uint64_t keys, double *rps)
{
    unsigned bits = 4;
    while (((uint64_t)1 << bits) < 2 * keys)
        bits++;
    uint64_t mask = ((uint64_t)1 << bits) - 1;
    /* The table is allocated (and its pages touched) before the clock starts,
     * as the engine's grows while the job runs - a small head start for the floor. */
    struct agg_slot *t = rt_xcalloc_process(mask + 1, sizeof(*t));
    double t0 = bench_now_ms();
    for (uint64_t g = 0; g < records; g++) {
        uint64_t key = g % keys;
        uint64_t i = (key * 0x9E3779B97F4A7C15ull) >> (64 - bits);
        while (t[i].key1 && t[i].key1 != key + 1)
            i = (i + 1) & mask;
        t[i].key1 = key + 1;
        t[i].sum += (int64_t)g;
    }
    double ms = bench_now_ms() - t0;
    uint64_t sum = 0, n = 0;
    for (uint64_t i = 0; i <= mask; i++)
        if (t[i].key1) {
            sum += (uint64_t)t[i].sum + (t[i].key1 - 1);
            n++;
        }
    rt_free(t);
    *rps = (double)records / (ms / 1000.0);
    /* Keys are summed once each here, so compare values and key count. */
    uint64_t want_keys = records < keys ? records : keys;
    uint64_t want = records * (records - 1) / 2 + want_keys * (want_keys - 1) / 2;
    return sum == want && n == want_keys ? 0 : -EPROTO;
}

int bench_floor_kstate(uint64_t records, uint64_t keys, double *rps)
{
    struct eng_kstate *ks = eng_kstate_new(FLOOR_MAXP);
    struct eng_batch *b = rt_xmalloc_process(sizeof(*b));
    double t0 = bench_now_ms();
    for (uint64_t g = 0; g < records;) {
        uint64_t left = records - g;
        uint32_t n = left < ENG_BATCH_CAP ? (uint32_t)left : ENG_BATCH_CAP;
        fill(b, g, n, keys);
        eng_kstate_add_batch(ks, b->rec, n);
        g += n;
    }
    double ms = bench_now_ms() - t0;
    uint64_t want_keys = records < keys ? records : keys;
    int rc = eng_kstate_count(ks) == want_keys ? 0 : -EPROTO;
    /* Spot check: key 0 holds the sum of g over g = 0, keys, 2 keys, ... */
    int64_t *v = eng_kstate_get(ks, 0);
    uint64_t m = (records + keys - 1) / keys;
    if (!v || (uint64_t)*v != keys * (m * (m - 1) / 2))
        rc = -EPROTO;
    rt_free(b);
    eng_kstate_free(ks);
    *rps = (double)records / (ms / 1000.0);
    return rc;
}
