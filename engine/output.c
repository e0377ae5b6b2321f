/*
 * output.c - struct eng_output, the external system the transactional sink
 * writes to: a stand-in for a transactional database (Kafka with
 * transactions, say) that outlives every node.
 *
 * It is the one file of engine/ that uses pthreads and plain malloc, on
 * purpose: the output belongs to no node (a node crash must not free it, and
 * its memory must not count against a TaskManager), and sink subtasks on
 * different TaskManager threads stage and commit concurrently.  One mutex
 * guards everything; a stage is a hash update per record into its txn's
 * table, a commit one per key of the txn, each under one lock hold so
 * readers see a txn wholly or not at all.  eng_output_foreach calls back under the lock, so a callback must not
 * re-enter the same output; taking another output's lock inside is fine as
 * long as no caller nests the two the other way round (eng_output_verify
 * only nests expected -> committed).
 *
 * The stand-in database does not model running out of memory: a failed
 * malloc aborts the process, like rt_x* elsewhere (but without charging any
 * node), so eng_output_new never returns NULL.
 *
 * Per key it keeps the committed record count, the largest committed value
 * and the last one.  Per sink subtask (an "owner": vertex, subtask) it keeps
 * the highest committed txn id and the pending (staged, uncommitted) txns in
 * ascending id order.  A pending txn holds the same three figures per key
 * for its own records, folded in as they are staged: committing it merges
 * one entry per key it touched instead of replaying every record, and
 * staging writes a small table instead of copying records (a keyed job
 * stages millions of records over a few thousand keys).  Nothing a reader
 * can see is lost by folding early: count, max and last of a key after a
 * commit are the same as if its records had been applied one by one.  Spare
 * tables of committed txns are kept for the next ones.  Pending records are
 * invisible to every reader (records, keys, foreach, hence eng_output_verify).
 *
 * A DISCARD subtask (op_discard.c) writes no records, only a receipt per
 * completed checkpoint: its count and digest, kept in its owner entry, the
 * newest checkpoint's standing.  Their counts add to the committed records.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jobgraph.h"
#include "engine/operator.h"

/* A new table's size.  Small, because every job's output and every txn
 * starts with one and they are zeroed by writing (ktab_alloc): at 1024 slots
 * (32 KB) each session submit wrote and faulted in ~100 KB of fresh tables,
 * and submits/s fell from ~50k to ~9k.  A txn starts at its owner's last
 * size anyway (keys_hint), so big outputs do not grow a doubling at a time. */
#define KEYS_MIN_BITS 6
#define SPARE_MAX 4         /* txn tables kept for reuse */

/* Open addressing (home_of); records == 0 marks a free slot. */
struct ktab {
    struct eng_output_key *keys;
    uint64_t cap, n;            /* cap = 2^bits, load <= 0.7 */
    unsigned bits;
};

struct txn {
    struct txn *next;       /* the owner's next pending txn, higher id; or the spare list */
    uint64_t id;
    uint64_t records;
    struct ktab t;
};

struct owner {
    uint32_t vertex, subtask;
    uint32_t epoch;         /* of the instance that fenced last; 0: none did */
    uint64_t txn;           /* highest committed */
    uint64_t keys_hint;     /* keys of its last txn: the size a new one starts at */
    struct txn *pending;    /* ascending id */
    /* A DISCARD subtask's standing receipt (eng_output_publish); chk 0: none. */
    uint64_t receipt_chk, receipt_records, receipt_digest;
};

struct eng_output {
    pthread_mutex_t lock;
    struct ktab committed;
    uint64_t records;               /* committed */
    uint64_t receipt_records;       /* summed over the owners' receipts */
    uint64_t pending_records;
    struct owner *owners;
    uint32_t n_owners, cap_owners;
    struct txn *spare;
    uint32_t n_spare;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort();
    return p;
}

/* A zeroed table written, not calloc'ed: a fresh calloc'ed mapping is the
 * kernel's zero page until written, and the first write after a probe has
 * read it is a copy-on-write fault whose TLB flush interrupts every other
 * core running the process - an IPI, a VM exit under a hypervisor.  In
 * bench engine's checkpointed job those faults were the largest part of
 * the sink thread's extra time: every txn opened without a spare table
 * grew one. */
static struct eng_output_key *ktab_alloc(uint64_t cap)
{
    struct eng_output_key *k = malloc(cap * sizeof(*k));
    if (!k)
        abort();
    /* Not memset: the compiler folds malloc + memset into calloc. */
    explicit_bzero(k, cap * sizeof(*k));
    return k;
}

static void ktab_init(struct ktab *t)
{
    t->bits = KEYS_MIN_BITS;
    t->cap = (uint64_t)1 << t->bits;
    t->keys = ktab_alloc(t->cap);
    t->n = 0;
}

static void ktab_clear(struct ktab *t)
{
    memset(t->keys, 0, t->cap * sizeof(*t->keys));
    t->n = 0;
}

/* Creates an empty output; never NULL.  Any thread. */
struct eng_output *eng_output_new(void)
{
    struct eng_output *o = xcalloc(1, sizeof(*o));
    ktab_init(&o->committed);
    pthread_mutex_init(&o->lock, NULL);
    return o;
}

static void txn_destroy(struct txn *t)
{
    free(t->t.keys);
    free(t);
}

/* Frees the output and every pending txn; NULL is a no-op.  No call into o
 * may be running. */
void eng_output_free(struct eng_output *o)
{
    if (!o)
        return;
    pthread_mutex_destroy(&o->lock);
    for (uint32_t i = 0; i < o->n_owners; i++) {
        struct txn *t = o->owners[i].pending;
        while (t) {
            struct txn *next = t->next;
            txn_destroy(t);
            t = next;
        }
    }
    while (o->spare) {
        struct txn *next = o->spare->next;
        txn_destroy(o->spare);
        o->spare = next;
    }
    free(o->committed.keys);
    free(o->owners);
    free(o);
}

/* Multiplicative hashing, high bits (as kstate.c): one multiplication per
 * record; the output has no key groups to keep. */
static inline uint64_t home_of(const struct ktab *t, uint64_t key)
{
    return ((key ^ (key >> 32)) * 0x9E3779B97F4A7C15ull) >> (64 - t->bits);
}

static inline uint64_t slot_of(const struct ktab *t, uint64_t key)
{
    uint64_t i = home_of(t, key);
    while (t->keys[i].records && t->keys[i].key != key)
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* Grows the table until `n` keys fit at a load factor of 0.7: at 1/2 the
 * tables of a sink (one per pending txn, and the committed one) were a fifth
 * of a sim run's page faults, and linear probing at 0.7 costs no more
 * instructions than the zeroing it saves. */
static void ktab_reserve(struct ktab *t, uint64_t n)
{
    if (n * 10 <= t->cap * 7)
        return;
    struct eng_output_key *old = t->keys;
    uint64_t old_cap = t->cap;
    while (n * 10 > t->cap * 7) {
        t->bits++;
        t->cap *= 2;
    }
    t->keys = ktab_alloc(t->cap);
    for (uint64_t i = 0; i < old_cap; i++)
        if (old[i].records)
            t->keys[slot_of(t, old[i].key)] = old[i];
    free(old);
}

/* Makes room for a new key (absent from t) and returns its empty entry.
 * Out of line: nearly every record finds its key. */
static __attribute__((noinline)) struct eng_output_key *ktab_add_key(struct ktab *t,
                                                                       uint64_t key)
{
    ktab_reserve(t, t->n + 1);
    t->n++;
    return &t->keys[slot_of(t, key)];
}

/* The entry of key, created empty (records 0, not yet counted) if absent. */
static inline __attribute__((always_inline)) struct eng_output_key *ktab_entry(struct ktab *t,
                                                                               uint64_t key)
{
    struct eng_output_key *k = &t->keys[slot_of(t, key)];
    return k->records ? k : ktab_add_key(t, key);
}

/* Above this many bytes of table ktab_add_records prefetches home slots a
 * few records ahead; a smaller one (a sink subtask's txn of a few thousand
 * keys: 256 KiB) stays in the cache, where the prefetch only costs its hash
 * again (as PREFETCH_TABLE_BYTES in kstate.c). */
#define KTAB_PREFETCH_BYTES (4u << 20)

/* Folds n records into t, in order.  Caller holds the lock.  The table's
 * address and shape are kept in locals, refreshed only after a new key
 * (which may grow it), as kstate.c's find_or_insert does: read through t
 * on every record, past the stores into the entries that may alias it,
 * they cost this loop a third of its instructions. */
static void ktab_add_records(struct ktab *t, const struct eng_record *rec, uint32_t n)
{
    /* Fetch the home slot a few records ahead: a large table otherwise
     * costs a memory latency per record. */
    enum { AHEAD = 8 };
    struct eng_output_key *keys = t->keys;
    unsigned shift = 64 - t->bits;
    uint64_t mask = t->cap - 1;
    bool prefetch = t->cap * sizeof(*keys) > KTAB_PREFETCH_BYTES;
    for (uint32_t i = 0; i < n; i++) {
        if (prefetch && i + AHEAD < n) {
            uint64_t ak = rec[i + AHEAD].key;
            __builtin_prefetch(&keys[((ak ^ (ak >> 32)) * 0x9E3779B97F4A7C15ull) >> shift], 1);
        }
        uint64_t key = rec[i].key;
        int64_t value = rec[i].value;
        uint64_t j = ((key ^ (key >> 32)) * 0x9E3779B97F4A7C15ull) >> shift;
        struct eng_output_key *k;
        for (;;) {
            k = &keys[j];
            if (!k->records) {      /* a new key: room first (the table may move) */
                k = ktab_add_key(t, key);
                keys = t->keys;
                shift = 64 - t->bits;
                mask = t->cap - 1;
                prefetch = t->cap * sizeof(*keys) > KTAB_PREFETCH_BYTES;
                k->key = key;
                k->max = value;
                break;
            }
            if (k->key == key) {
                if (value > k->max)
                    k->max = value;
                break;
            }
            j = (j + 1) & mask;
        }
        k->records++;
        k->last = value;
    }
}

/* Moves every key of `from` (records that came after t's) into t, leaving
 * `from` empty for reuse (clearing what it used instead of all of it).
 * t grows to at least from's size first: walking `from` in slot order
 * visits keys in the order of their hash, and inserting that order into a
 * smaller table with the same hash piles them into one long cluster (into
 * a table as large or larger, they land in order, spread out). */
static void ktab_merge(struct ktab *t, struct ktab *from)
{
    if (t->cap < from->cap)
        ktab_reserve(t, from->cap * 7 / 10);
    enum { AHEAD = 8 };
    for (uint64_t i = 0; i < from->cap; i++) {
        struct eng_output_key *f = &from->keys[i];
        if (i + AHEAD < from->cap && from->keys[i + AHEAD].records)
            __builtin_prefetch(&t->keys[home_of(t, from->keys[i + AHEAD].key)], 1);
        if (!f->records)
            continue;
        struct eng_output_key *k = ktab_entry(t, f->key);
        if (!k->records) {
            *k = *f;
        } else {
            if (f->max > k->max)
                k->max = f->max;
            k->records += f->records;
            k->last = f->last;
        }
        *f = (struct eng_output_key){0};
    }
    from->n = 0;
}

static struct owner *find_owner(struct eng_output *o, uint32_t vertex, uint32_t subtask)
{
    for (uint32_t i = 0; i < o->n_owners; i++)
        if (o->owners[i].vertex == vertex && o->owners[i].subtask == subtask)
            return &o->owners[i];
    return NULL;
}

static struct owner *get_owner(struct eng_output *o, uint32_t vertex, uint32_t subtask)
{
    struct owner *w = find_owner(o, vertex, subtask);
    if (w)
        return w;
    if (o->n_owners == o->cap_owners) {
        uint32_t cap = o->cap_owners ? o->cap_owners * 2 : 16;
        struct owner *nw = realloc(o->owners, cap * sizeof(*nw));
        if (!nw)
            abort();
        o->owners = nw;
        o->cap_owners = cap;
    }
    w = &o->owners[o->n_owners++];
    *w = (struct owner){.vertex = vertex, .subtask = subtask};
    return w;
}

/* A txn expected to touch about `keys` keys: its table starts that large
 * rather than growing to it one doubling (and one rehash) at a time. */
static struct txn *txn_new(struct eng_output *o, uint64_t id, uint64_t keys)
{
    struct txn *t = o->spare;
    if (t) {
        o->spare = t->next;
        o->n_spare--;
    } else {
        t = xcalloc(1, sizeof(*t));
        ktab_init(&t->t);
    }
    ktab_reserve(&t->t, keys);
    t->next = NULL;
    t->id = id;
    t->records = 0;
    return t;
}

/* Releases a txn (already unlinked), keeping a few tables for reuse. */
static void txn_free(struct eng_output *o, struct txn *t)
{
    o->pending_records -= t->records;
    if (o->n_spare >= SPARE_MAX) {
        txn_destroy(t);
        return;
    }
    if (t->t.n)
        ktab_clear(&t->t);      /* aborted: a committed one was emptied by its merge */
    t->next = o->spare;
    o->spare = t;
    o->n_spare++;
}

/* Stages records into a pending txn; see operator.h. */
int eng_output_stage(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint32_t epoch,
                     uint64_t txn, const struct eng_record *rec, uint32_t n)
{
    if (n == 0)
        return 0;
    pthread_mutex_lock(&o->lock);
    struct owner *w = get_owner(o, vertex, subtask);
    if (epoch != w->epoch) {
        pthread_mutex_unlock(&o->lock);
        return -ESTALE;     /* a newer instance fenced this subtask */
    }
    struct txn **at = &w->pending;
    uint64_t keys = w->keys_hint;
    while (*at && (*at)->id < txn) {
        keys = (*at)->t.n;
        at = &(*at)->next;
    }
    struct txn *t = *at;
    if (!t || t->id != txn) {
        t = txn_new(o, txn, keys);
        t->next = *at;
        *at = t;
    }
    t->records += n;
    o->pending_records += n;
    ktab_add_records(&t->t, rec, n);
    pthread_mutex_unlock(&o->lock);
    return 0;
}

/* Commits a pending txn; see operator.h. */
int eng_output_commit_txn(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                          bool *applied)
{
    int rc = 0;
    bool done = false;
    pthread_mutex_lock(&o->lock);
    struct owner *w = find_owner(o, vertex, subtask);
    struct txn **at = w ? &w->pending : NULL;
    while (at && *at && (*at)->id < txn)
        at = &(*at)->next;
    if (at && *at && (*at)->id == txn) {
        struct txn *t = *at;
        *at = t->next;
        w->keys_hint = t->t.n;
        ktab_merge(&o->committed, &t->t);
        o->records += t->records;
        if (txn > w->txn)
            w->txn = txn;
        txn_free(o, t);
        done = true;
    } else if (!w || w->txn < txn) {
        rc = -ENOENT;   /* never staged, or aborted: not ours to invent */
    }
    pthread_mutex_unlock(&o->lock);
    if (applied)
        *applied = done;
    return rc;
}

/* Drops w's pending txns > txn; returns their records.  Caller holds the lock. */
static uint64_t drop_after(struct eng_output *o, struct owner *w, uint64_t txn)
{
    uint64_t dropped = 0;
    struct txn **at = w ? &w->pending : NULL;
    while (at && *at && (*at)->id <= txn)
        at = &(*at)->next;
    while (at && *at) {
        struct txn *t = *at;
        *at = t->next;
        dropped += t->records;
        txn_free(o, t);
    }
    return dropped;
}

/* Discards pending txns > txn of one owner; see operator.h. */
uint64_t eng_output_abort_after(struct eng_output *o, uint32_t vertex, uint32_t subtask,
                                uint64_t txn)
{
    pthread_mutex_lock(&o->lock);
    uint64_t dropped = drop_after(o, find_owner(o, vertex, subtask), txn);
    pthread_mutex_unlock(&o->lock);
    return dropped;
}

/* Fences an owner for a new instance; see operator.h. */
uint32_t eng_output_fence(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                          uint64_t *dropped)
{
    pthread_mutex_lock(&o->lock);
    struct owner *w = get_owner(o, vertex, subtask);
    uint64_t d = drop_after(o, w, txn);
    uint32_t epoch = ++w->epoch;
    pthread_mutex_unlock(&o->lock);
    if (dropped)
        *dropped = d;
    return epoch;
}

/* Stages and commits in one step; see operator.h. */
int eng_output_commit(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                      const struct eng_record *rec, uint32_t n, bool *applied)
{
    *applied = false;
    pthread_mutex_lock(&o->lock);
    struct owner *w = get_owner(o, vertex, subtask);
    if (w->txn < txn) {
        ktab_add_records(&o->committed, rec, n);
        o->records += n;
        w->txn = txn;
        *applied = true;
    }
    pthread_mutex_unlock(&o->lock);
    return 0;
}

/* Publishes a DISCARD subtask's receipt; see operator.h. */
int eng_output_publish(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint32_t epoch,
                       uint64_t chk, uint64_t records, uint64_t digest)
{
    pthread_mutex_lock(&o->lock);
    struct owner *w = get_owner(o, vertex, subtask);
    int rc = epoch == w->epoch ? 0 : -ESTALE;
    if (rc == 0 && chk > w->receipt_chk) {
        o->receipt_records += records - w->receipt_records;
        w->receipt_chk = chk;
        w->receipt_records = records;
        w->receipt_digest = digest;
    }
    pthread_mutex_unlock(&o->lock);
    return rc;
}

void eng_output_receipts(const struct eng_output *o, uint64_t *records, uint64_t *digest)
{
    struct eng_output *m = (struct eng_output *)o;
    pthread_mutex_lock(&m->lock);
    uint64_t d = 0;
    for (uint32_t i = 0; i < o->n_owners; i++)
        d += o->owners[i].receipt_digest;
    *records = o->receipt_records;
    *digest = d;
    pthread_mutex_unlock(&m->lock);
}

uint64_t eng_output_records(const struct eng_output *o)
{
    struct eng_output *m = (struct eng_output *)o;  /* the lock is not part of the value */
    pthread_mutex_lock(&m->lock);
    uint64_t r = o->records + o->receipt_records;
    pthread_mutex_unlock(&m->lock);
    return r;
}

uint64_t eng_output_pending_records(const struct eng_output *o)
{
    struct eng_output *m = (struct eng_output *)o;
    pthread_mutex_lock(&m->lock);
    uint64_t r = o->pending_records;
    pthread_mutex_unlock(&m->lock);
    return r;
}

uint64_t eng_output_key_count(const struct eng_output *o)
{
    struct eng_output *m = (struct eng_output *)o;
    pthread_mutex_lock(&m->lock);
    uint64_t r = o->committed.n;
    pthread_mutex_unlock(&m->lock);
    return r;
}

uint64_t eng_output_committed_txn(const struct eng_output *o, uint32_t vertex, uint32_t subtask)
{
    struct eng_output *m = (struct eng_output *)o;
    pthread_mutex_lock(&m->lock);
    struct owner *w = find_owner(m, vertex, subtask);
    uint64_t t = w ? w->txn : 0;
    pthread_mutex_unlock(&m->lock);
    return t;
}

int eng_output_key(const struct eng_output *o, uint64_t key, struct eng_output_key *out)
{
    struct eng_output *m = (struct eng_output *)o;
    pthread_mutex_lock(&m->lock);
    const struct eng_output_key *k = &o->committed.keys[slot_of(&o->committed, key)];
    int rc = k->records ? 0 : -ENOENT;
    if (rc == 0)
        *out = *k;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void eng_output_foreach(const struct eng_output *o,
                        void (*fn)(const struct eng_output_key *k, void *arg), void *arg)
{
    struct eng_output *m = (struct eng_output *)o;
    pthread_mutex_lock(&m->lock);
    for (uint64_t i = 0; i < o->committed.cap; i++)
        if (o->committed.keys[i].records)
            fn(&o->committed.keys[i], arg);
    pthread_mutex_unlock(&m->lock);
}
