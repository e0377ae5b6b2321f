/*
 * kstate.c - open-addressing hash map for keyed operator state.
 *
 * Layout: one array of 24-byte slots (key, value, key group + 1, blob
 * length) probed linearly from a home slot taken from the high bits of a
 * multiplicative (Fibonacci) hash of the key; capacity is a power of two and
 * the load factor stays at or below 0.7.  The key group - XXH64 of the key
 * modulo max parallelism, as HASH routing computes it - is needed only when
 * a key is inserted and is kept in its slot, so the per-record path costs
 * one multiplication instead of an XXH64.  A slot whose tag is 0 is empty, which
 * lets a zeroed allocation be an empty table.  Blob pointers live in a
 * parallel array allocated on the first blob, so states without blobs
 * (every keyed sum/count) pay nothing for them.  Removal shifts the
 * following cluster back instead of leaving tombstones, so lookups never
 * degrade over a long run of window clears.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cellpool.h"
#include "engine/jobgraph.h"
#include "engine/kstate.h"
#include "runtime/rt_mem.h"

#define MIN_BITS 4
/* Above this many bytes of table the per-record loops hash a stretch of
 * records first and prefetch home slots ahead; below it they go straight
 * through, which the out-of-order core overlaps better than the software
 * prefetches do.  Measured on the reference machine (1 MB L2 per core, 32 MB
 * L3), eng_kstate_aggregate_batch, 20 M records, min of 5:
 *   100 000 keys (6 MB table):  straight 3.9-4.0 ns/record, prefetching 5.9-6.0
 *   400 000 keys (25 MB table): straight 29-49 ns, prefetching 24-25
 * and the crossover lies between.  (Since then the straight loop has become
 * tighter, 2.5-2.65 ns at 100 000 keys on the current machine; see
 * find_or_insert.  The prefetching loop is as it was.) */
#define PREFETCH_TABLE_BYTES (8u << 20)
#define SLOT_MUL 0x9E3779B97F4A7C15ull     /* 2^64 / golden ratio, odd */

struct slot {
    uint64_t key;
    int64_t value;
    uint32_t tag;       /* key group + 1; 0 marks an empty slot */
    uint32_t blob_len;  /* LOGICAL_BIT | ENG_PAYLOAD_LEN for a logical blob */
};

#define LOGICAL_BIT 0x80000000u     /* above ENG_KSTATE_BLOB_MAX: never a length */

struct eng_kstate {
    struct slot *slots;
    uint8_t **blobs;    /* parallel to slots, NULL until the first blob */
    uint32_t bits;      /* capacity = 1 << bits */
    size_t count;
    size_t grow_at;     /* count that triggers a doubling */
    size_t blob_bytes;
    uint32_t max_par;
    uint32_t kg_mask;   /* max_par - 1 when it is a power of two, else 0 */
    uint32_t *group_count;
    /* Frozen copies (eng_kstate_freeze): */
    struct eng_kstate *origin;  /* in a copy: the state whose blobs it borrows */
    uint32_t frozen;            /* in a state: copies not yet thawed */
    bool orphan;                /* eng_kstate_free came while copies were out */
    uint8_t **deferred;         /* blobs to free once no copy is out (a cell's tagged) */
    size_t ndeferred, capdeferred;
    /* The arrays of the last thawed copy, for the next freeze: a fresh 8 MB
     * allocation costs its page faults, and its free a TLB shootdown, every
     * checkpoint. */
    struct slot *spare_slots;
    uint8_t **spare_blobs;
    uint32_t spare_bits;
    /* Short blobs (payload descriptors) in cells of the state's own, freed
     * with it. */
    struct eng_cellpool cells;
};

/* Where a key lives in the table.  The high half is folded in first so keys
 * that differ only in their high bits still spread. */
static inline uint64_t hash_key(uint64_t key)
{
    return (key ^ (key >> 32)) * SLOT_MUL;
}

/* eng_key_hash (jobgraph.h) is the inlined 8-byte XXH64 HASH routing uses
 * too, so the key group a record is routed by is the one it is stored
 * under. */
static inline uint32_t group_of(const struct eng_kstate *ks, uint64_t key)
{
    uint64_t h = eng_key_hash(key);
    return ks->kg_mask ? (uint32_t)(h & ks->kg_mask) : (uint32_t)(h % ks->max_par);
}

static inline size_t home_of(const struct eng_kstate *ks, uint64_t h)
{
    return (size_t)(h >> (64 - ks->bits));
}

/* n zeroed bytes, written rather than calloc'ed: a fresh calloc'ed mapping
 * reads as the kernel's zero page, and the first write after a probe read it
 * is a copy-on-write fault whose TLB flush interrupts the other cores (see
 * ktab_alloc in output.c).  explicit_bzero because the compiler would fold
 * malloc + memset back into calloc. */
static void *zalloc(size_t n)
{
    void *p = rt_xmalloc(n);
    explicit_bzero(p, n);
    return p;
}

static void alloc_table(struct eng_kstate *ks, uint32_t bits)
{
    size_t cap = (size_t)1 << bits;
    ks->bits = bits;
    ks->slots = zalloc(cap * sizeof(struct slot));
    ks->blobs = NULL;
    ks->grow_at = cap * 7 / 10;
}

/* The cells of short blobs: see blob_new. */
#define CELL_LEN ENG_PAYLOAD_LEN
#define CELL_BYTES (sizeof(struct eng_blob_loc) + CELL_LEN)

struct eng_kstate *eng_kstate_new(uint32_t max_parallelism)
{
    assert(max_parallelism >= 1 && max_parallelism <= ENG_MAX_PARALLELISM_LIMIT);
    struct eng_kstate *ks = rt_xcalloc(1, sizeof(*ks));
    ks->max_par = max_parallelism;
    ks->kg_mask = (max_parallelism & (max_parallelism - 1)) == 0 ? max_parallelism - 1 : 0;
    ks->group_count = rt_xcalloc(max_parallelism, sizeof(uint32_t));
    alloc_table(ks, MIN_BITS);
    eng_cellpool_init(&ks->cells, CELL_BYTES);
    return ks;
}

/*
 * A blob is its eng_blob_loc, then its bytes; the state points at the
 * bytes.  A blob of up to CELL_LEN bytes (every payload descriptor: a key
 * of declared state) lives in a cell of the state's own, others in an
 * allocation each: a malloc and a free per key were a tenth of what
 * declaring state cost a run.  A blob's length (its slot's blob_len) says
 * which, and a deferred one carries the difference in its low bit.
 */
static bool in_cell(uint32_t blob_len)
{
    return (blob_len & ~LOGICAL_BIT) <= CELL_LEN;
}

static uint8_t *blob_new(struct eng_kstate *ks, const void *data, uint32_t len)
{
    struct eng_blob_loc *loc = in_cell(len) ? eng_cellpool_get(&ks->cells)
                                            : rt_xmalloc(sizeof(*loc) + len);
    *loc = (struct eng_blob_loc){0};
    memcpy(loc + 1, data, len);
    return (uint8_t *)(loc + 1);
}

static void blob_free(struct eng_kstate *ks, uint8_t *blob, bool cell)
{
    if (!blob)
        return;
    struct eng_blob_loc *loc = eng_kstate_blob_loc(blob);
    if (!cell) {
        rt_free(loc);
        return;
    }
    eng_cellpool_put(&ks->cells, loc);
}

/* What a blob of len bytes costs the state. */
static size_t blob_cost(uint32_t len)
{
    len &= ~LOGICAL_BIT;
    return len ? sizeof(struct eng_blob_loc) + len : 0;
}

struct eng_blob_loc *eng_kstate_blob_loc(const uint8_t *blob)
{
    return (struct eng_blob_loc *)(uintptr_t)blob - 1;
}

/* Frees a blob of ks (blob_len its slot's), or keeps it for later while a
 * frozen copy may read it. */
static void drop_blob(struct eng_kstate *ks, uint8_t *blob, uint32_t blob_len)
{
    if (!blob)
        return;
    bool cell = in_cell(blob_len);
    if (!ks->frozen) {
        blob_free(ks, blob, cell);
        return;
    }
    if (ks->ndeferred == ks->capdeferred) {
        ks->capdeferred = ks->capdeferred ? 2 * ks->capdeferred : 64;
        ks->deferred = rt_xrealloc(ks->deferred, ks->capdeferred * sizeof(*ks->deferred));
    }
    ks->deferred[ks->ndeferred++] = (uint8_t *)((uintptr_t)blob | cell);
}

static void free_blobs(struct eng_kstate *ks)
{
    if (!ks->blobs)
        return;
    size_t cap = (size_t)1 << ks->bits;
    for (size_t i = 0; i < cap; i++)
        drop_blob(ks, ks->blobs[i], ks->slots[i].blob_len);
    rt_free(ks->blobs);
    ks->blobs = NULL;
    ks->blob_bytes = 0;
}

void eng_kstate_free(struct eng_kstate *ks)
{
    if (!ks)
        return;
    assert(!ks->origin);        /* a frozen copy goes with eng_kstate_thaw */
    if (ks->frozen) {
        ks->orphan = true;      /* the last thaw frees it */
        return;
    }
    free_blobs(ks);
    eng_cellpool_free_all(&ks->cells);
    rt_free(ks->deferred);
    rt_free(ks->spare_slots);
    rt_free(ks->spare_blobs);
    rt_free(ks->slots);
    rt_free(ks->group_count);
    rt_free(ks);
}

uint32_t eng_kstate_max_parallelism(const struct eng_kstate *ks) { return ks->max_par; }
size_t eng_kstate_count(const struct eng_kstate *ks) { return ks->count; }

size_t eng_kstate_bytes(const struct eng_kstate *ks)
{
    size_t cap = (size_t)1 << ks->bits, spare = (size_t)1 << ks->spare_bits;
    return sizeof(*ks) + cap * sizeof(struct slot) + (ks->blobs ? cap * sizeof(uint8_t *) : 0) +
           ks->blob_bytes + ks->max_par * sizeof(uint32_t) +
           (ks->spare_slots ? spare * sizeof(struct slot) : 0) +
           (ks->spare_blobs ? spare * sizeof(uint8_t *) : 0);
}

static void rehash(struct eng_kstate *ks, uint32_t bits)
{
    struct slot *old = ks->slots;
    uint8_t **oldblobs = ks->blobs;
    size_t oldcap = (size_t)1 << ks->bits;
    alloc_table(ks, bits);
    size_t mask = ((size_t)1 << bits) - 1;
    if (oldblobs)
        ks->blobs = zalloc((mask + 1) * sizeof(uint8_t *));
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].tag)
            continue;
        size_t j = home_of(ks, hash_key(old[i].key));
        while (ks->slots[j].tag)
            j = (j + 1) & mask;
        ks->slots[j] = old[i];
        if (oldblobs)
            ks->blobs[j] = oldblobs[i];
    }
    rt_free(old);
    rt_free(oldblobs);
}

void eng_kstate_reserve(struct eng_kstate *ks, size_t n)
{
    uint32_t bits = ks->bits;
    while (((size_t)1 << bits) * 7 / 10 < n)
        bits++;
    if (bits != ks->bits)
        rehash(ks, bits);
}

void eng_kstate_clear(struct eng_kstate *ks)
{
    free_blobs(ks);
    memset(ks->slots, 0, ((size_t)1 << ks->bits) * sizeof(struct slot));
    memset(ks->group_count, 0, ks->max_par * sizeof(uint32_t));
    ks->count = 0;
}

/* Index of `key`'s slot, or of the empty slot where it would go. */
static inline size_t probe(const struct eng_kstate *ks, uint64_t key, uint64_t h)
{
    size_t mask = ((size_t)1 << ks->bits) - 1;
    size_t i = home_of(ks, h);
    while (ks->slots[i].tag && ks->slots[i].key != key)
        i = (i + 1) & mask;
    return i;
}

int64_t *eng_kstate_get(struct eng_kstate *ks, uint64_t key)
{
    size_t i = probe(ks, key, hash_key(key));
    return ks->slots[i].tag ? &ks->slots[i].value : NULL;
}

/* Inserts `key` (hash h, absent) at value 0; i is the empty slot probe
 * found.  Out of line: once a state is warm nearly every record finds its
 * key, and the per-record loops stay small. */
static __attribute__((noinline)) size_t insert_h(struct eng_kstate *ks, uint64_t key, uint64_t h,
                                                 size_t i)
{
    if (ks->count + 1 > ks->grow_at) {
        rehash(ks, ks->bits + 1);
        i = probe(ks, key, h);
    }
    uint32_t kg = group_of(ks, key);
    ks->slots[i] = (struct slot){.key = key, .value = 0, .tag = kg + 1, .blob_len = 0};
    ks->group_count[kg]++;
    ks->count++;
    return i;
}

/* Slot of `key` (whose hash is h), inserted at value 0 when absent. */
static inline __attribute__((always_inline)) size_t upsert_h(struct eng_kstate *ks, uint64_t key,
                                                             uint64_t h, bool *inserted)
{
    size_t i = probe(ks, key, h);
    bool found = ks->slots[i].tag != 0;
    if (inserted)
        *inserted = !found;
    return found ? i : insert_h(ks, key, h, i);
}

static inline size_t upsert(struct eng_kstate *ks, uint64_t key, bool *inserted)
{
    return upsert_h(ks, key, hash_key(key), inserted);
}

int64_t *eng_kstate_get_or_insert(struct eng_kstate *ks, uint64_t key, bool *inserted)
{
    size_t i = upsert(ks, key, inserted); /* may move ks->slots: index first */
    return &ks->slots[i].value;
}

void eng_kstate_add(struct eng_kstate *ks, uint64_t key, int64_t delta)
{
    size_t i = upsert(ks, key, NULL);
    struct slot *s = &ks->slots[i];
    /* Wrap like Java's long rather than hit signed-overflow UB. */
    s->value = (int64_t)((uint64_t)s->value + (uint64_t)delta);
}

/* The per-record loops without prefetching keep the table's address and
 * shape in locals, refreshed only after an insertion (which may grow the
 * table), and test the key before the tag, so a hit - nearly every record
 * of a warm state - takes one compare and branch.  Reading them through ks
 * on every record, with upsert_h, cost eng_kstate_aggregate_batch 3.35
 * against 2.95 ns/record (100 000 keys, batches already in cache, min of 5;
 * with the stores below, 2.5-2.65). */
struct table {
    struct slot *slots;
    unsigned shift;     /* 64 - bits */
    size_t mask;
};

static inline struct table table_of(const struct eng_kstate *ks)
{
    return (struct table){ ks->slots, 64 - ks->bits, ((size_t)1 << ks->bits) - 1 };
}

/* The slot of key, inserted at value 0 when absent (then *inserted, and t
 * refreshed). */
static inline __attribute__((always_inline)) struct slot *
find_or_insert(struct eng_kstate *ks, struct table *t, uint64_t key, bool *inserted)
{
    uint64_t h = hash_key(key);
    size_t i = (size_t)(h >> t->shift);
    /* An empty slot has tag 0 (whatever its key), an occupied one never. */
    while (__builtin_expect(t->slots[i].key != key || !t->slots[i].tag, 0)) {
        if (!t->slots[i].tag) {
            i = insert_h(ks, key, h, i);
            *t = table_of(ks);
            if (inserted)
                *inserted = true;
            return &t->slots[i];
        }
        i = (i + 1) & t->mask;
    }
    if (inserted)
        *inserted = false;
    return &t->slots[i];
}

static inline bool worth_prefetching(const struct eng_kstate *ks)
{
    return ((size_t)sizeof(struct slot) << ks->bits) > PREFETCH_TABLE_BYTES;
}

void eng_kstate_add_batch(struct eng_kstate *ks, const struct eng_record *rec, uint32_t n)
{
    if (!worth_prefetching(ks)) {
        struct table t = table_of(ks);
        for (uint32_t i = 0; i < n; i++) {
            struct slot *s = find_or_insert(ks, &t, rec[i].key, NULL);
            s->value = (int64_t)((uint64_t)s->value + (uint64_t)rec[i].value);
        }
        return;
    }
    /* Hash a stretch of records first, then update them while the home
     * slots of records a few places ahead are being fetched: a state larger
     * than the cache otherwise costs one full memory latency per record. */
    enum { STRETCH = 256, AHEAD = 16 };
    uint64_t h[STRETCH];
    for (uint32_t base = 0; base < n; base += STRETCH) {
        uint32_t m = n - base < STRETCH ? n - base : STRETCH;
        for (uint32_t i = 0; i < m; i++)
            h[i] = hash_key(rec[base + i].key);
        for (uint32_t i = 0; i < m; i++) {
            if (i + AHEAD < m)
                __builtin_prefetch(&ks->slots[home_of(ks, h[i + AHEAD])], 1);
            size_t at = upsert_h(ks, rec[base + i].key, h[i], NULL);
            struct slot *s = &ks->slots[at];
            s->value = (int64_t)((uint64_t)s->value + (uint64_t)rec[base + i].value);
        }
    }
}

/* Folds record r into the value of its key, whose hash is h; returns r
 * with the key's updated value. */
static inline __attribute__((always_inline)) struct eng_record
fold(struct eng_kstate *ks, enum eng_kstate_agg agg, struct eng_record r, uint64_t h)
{
    bool inserted;
    size_t at = upsert_h(ks, r.key, h, &inserted); /* may move ks->slots */
    struct slot *s = &ks->slots[at];
    if (agg == ENG_KSTATE_COUNT)
        s->value = (int64_t)((uint64_t)s->value + 1);
    else if (agg == ENG_KSTATE_SUM)
        s->value = (int64_t)((uint64_t)s->value + (uint64_t)r.value);
    else if (inserted || r.value > s->value)
        s->value = r.value;
    r.value = s->value;
    return r;
}

/* The loop of eng_kstate_aggregate_batch for one agg: always_inline with a
 * constant agg, so each caller below gets its own loop without the switch. */
static inline __attribute__((always_inline)) void
aggregate(struct eng_kstate *ks, enum eng_kstate_agg agg, const struct eng_record *in,
          uint32_t n, struct eng_record *out)
{
    if (!worth_prefetching(ks)) {
        struct table t = table_of(ks);
        for (uint32_t i = 0; i < n; i++) {
            /* The whole record is read before out is written (out may be
             * in), then written field by field.  As a struct copy, or with
             * GCC's SLP vectoriser (off for this file, see meson.build),
             * value and ts go out as one 16-byte store put together in an
             * XMM register: 2.95 against 2.5-2.65 ns/record. */
            uint64_t key = in[i].key;
            int64_t value = in[i].value, ts = in[i].ts;
            bool inserted;
            struct slot *s = find_or_insert(ks, &t, key, &inserted);
            int64_t v = s->value;
            if (agg == ENG_KSTATE_COUNT)
                v = (int64_t)((uint64_t)v + 1);
            else if (agg == ENG_KSTATE_SUM)
                v = (int64_t)((uint64_t)v + (uint64_t)value);
            else if (inserted || value > v)
                v = value;
            s->value = v;
            out[i].key = key;
            out[i].value = v;
            out[i].ts = ts;
        }
        return;
    }
    enum { STRETCH = 256, AHEAD = 16 };
    uint64_t h[STRETCH];
    for (uint32_t base = 0; base < n; base += STRETCH) {
        uint32_t m = n - base < STRETCH ? n - base : STRETCH;
        for (uint32_t i = 0; i < m; i++)
            h[i] = hash_key(in[base + i].key);
        for (uint32_t i = 0; i < m; i++) {
            if (i + AHEAD < m)
                __builtin_prefetch(&ks->slots[home_of(ks, h[i + AHEAD])], 1);
            out[base + i] = fold(ks, agg, in[base + i], h[i]);  /* out may be in */
        }
    }
}

void eng_kstate_aggregate_batch(struct eng_kstate *ks, enum eng_kstate_agg agg,
                                const struct eng_record *in, uint32_t n,
                                struct eng_record *out)
{
    switch (agg) {
    case ENG_KSTATE_COUNT:
        aggregate(ks, ENG_KSTATE_COUNT, in, n, out);
        break;
    case ENG_KSTATE_SUM:
        aggregate(ks, ENG_KSTATE_SUM, in, n, out);
        break;
    default:
        aggregate(ks, ENG_KSTATE_MAX, in, n, out);
        break;
    }
}

void eng_kstate_put(struct eng_kstate *ks, uint64_t key, int64_t value)
{
    size_t i = upsert(ks, key, NULL);
    ks->slots[i].value = value;
}

bool eng_kstate_remove(struct eng_kstate *ks, uint64_t key)
{
    size_t mask = ((size_t)1 << ks->bits) - 1;
    size_t i = probe(ks, key, hash_key(key));
    if (!ks->slots[i].tag)
        return false;
    ks->group_count[ks->slots[i].tag - 1]--;
    ks->count--;
    if (ks->blobs) {
        ks->blob_bytes -= blob_cost(ks->slots[i].blob_len);
        drop_blob(ks, ks->blobs[i], ks->slots[i].blob_len);
        ks->blobs[i] = NULL;
    }
    /* Backward-shift deletion: move later members of the cluster into the
     * hole when the hole lies on their probe path (between home and slot). */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!ks->slots[j].tag)
            break;
        size_t home = home_of(ks, hash_key(ks->slots[j].key));
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            ks->slots[hole] = ks->slots[j];
            if (ks->blobs) {
                ks->blobs[hole] = ks->blobs[j];
                ks->blobs[j] = NULL;
            }
            hole = j;
        }
    }
    ks->slots[hole] = (struct slot){0};
    return true;
}

/* Replaces key's blob with len bytes of data; `flag` marks a logical one. */
static void put_blob(struct eng_kstate *ks, uint64_t key, const void *data, uint32_t len,
                     uint32_t flag)
{
    assert(len <= ENG_KSTATE_BLOB_MAX);
    size_t i = upsert(ks, key, NULL);
    if (!ks->blobs)
        ks->blobs = zalloc(((size_t)1 << ks->bits) * sizeof(uint8_t *));
    drop_blob(ks, ks->blobs[i], ks->slots[i].blob_len);
    ks->blobs[i] = NULL;
    ks->blob_bytes -= blob_cost(ks->slots[i].blob_len);
    ks->slots[i].blob_len = len ? len | flag : 0;
    if (len) {
        ks->blobs[i] = blob_new(ks, data, len);
        ks->blob_bytes += blob_cost(len);
    }
}

void eng_kstate_put_blob(struct eng_kstate *ks, uint64_t key, const void *data, uint32_t len)
{
    put_blob(ks, key, data, len, 0);
}

/* One unaligned 8-byte store (load) per field, byte-swapped on a big-endian
 * host: the byte loops these replace cost a snapshot encode ~100
 * instructions per logical entry. */
static inline uint64_t le64(uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

void eng_payload_put(uint8_t *out, const struct eng_payload *p)
{
    uint64_t bytes = le64(p->bytes), seed = le64(p->seed);
    memcpy(out, &bytes, 8);
    memcpy(out + 8, &seed, 8);
}

void eng_payload_get(const uint8_t *in, struct eng_payload *p)
{
    uint64_t bytes, seed;
    memcpy(&bytes, in, 8);
    memcpy(&seed, in + 8, 8);
    p->bytes = le64(bytes);
    p->seed = le64(seed);
}

void eng_kstate_put_logical(struct eng_kstate *ks, uint64_t key, const struct eng_payload *p)
{
    uint8_t d[ENG_PAYLOAD_LEN];
    eng_payload_put(d, p);
    put_blob(ks, key, d, sizeof(d), LOGICAL_BIT);
}

bool eng_kstate_blob_is_logical(const struct eng_kstate *ks, uint64_t key)
{
    size_t i = probe(ks, key, hash_key(key));
    return ks->slots[i].tag && (ks->slots[i].blob_len & LOGICAL_BIT);
}

const uint8_t *eng_kstate_get_blob(const struct eng_kstate *ks, uint64_t key, uint32_t *len)
{
    size_t i = probe(ks, key, hash_key(key));
    *len = 0;
    if (!ks->slots[i].tag || !ks->blobs || !ks->blobs[i])
        return NULL;
    *len = ks->slots[i].blob_len & ~LOGICAL_BIT;
    return ks->blobs[i];
}

struct eng_kstate *eng_kstate_freeze(struct eng_kstate *ks)
{
    assert(!ks->origin);
    size_t cap = (size_t)1 << ks->bits;
    struct eng_kstate *c = rt_xmalloc(sizeof(*c));
    *c = *ks;
    c->origin = ks;
    c->frozen = 0;
    c->deferred = NULL;
    c->ndeferred = c->capdeferred = 0;
    c->spare_slots = NULL;
    c->spare_blobs = NULL;
    eng_cellpool_init(&c->cells, CELL_BYTES);  /* the cells stay the state's */
    if (ks->spare_bits != ks->bits) {   /* the table has grown since */
        rt_free(ks->spare_slots);
        rt_free(ks->spare_blobs);
        ks->spare_slots = NULL;
        ks->spare_blobs = NULL;
    }
    c->slots = ks->spare_slots ? ks->spare_slots : rt_xmalloc(cap * sizeof(struct slot));
    ks->spare_slots = NULL;
    memcpy(c->slots, ks->slots, cap * sizeof(struct slot));
    c->blobs = NULL;
    if (ks->blobs) {
        c->blobs = ks->spare_blobs ? ks->spare_blobs : rt_xmalloc(cap * sizeof(uint8_t *));
        ks->spare_blobs = NULL;
        memcpy(c->blobs, ks->blobs, cap * sizeof(uint8_t *));
    }
    c->group_count = rt_xmalloc(ks->max_par * sizeof(uint32_t));
    memcpy(c->group_count, ks->group_count, ks->max_par * sizeof(uint32_t));
    ks->frozen++;
    return c;
}

void eng_kstate_thaw(struct eng_kstate *copy)
{
    if (!copy)
        return;
    struct eng_kstate *ks = copy->origin;
    assert(ks && ks->frozen > 0);
    if (!ks->orphan && !ks->spare_slots && !ks->spare_blobs && copy->bits == ks->bits) {
        ks->spare_slots = copy->slots;
        ks->spare_blobs = copy->blobs;
        ks->spare_bits = copy->bits;
    } else {
        rt_free(copy->slots);
        rt_free(copy->blobs);
    }
    rt_free(copy->group_count);
    rt_free(copy);
    if (--ks->frozen)
        return;
    for (size_t i = 0; i < ks->ndeferred; i++) {
        uintptr_t d = (uintptr_t)ks->deferred[i];
        blob_free(ks, (uint8_t *)(d & ~(uintptr_t)1), d & 1);
    }
    ks->ndeferred = 0;
    if (ks->orphan)
        eng_kstate_free(ks);
}

size_t eng_kstate_group_count(const struct eng_kstate *ks, uint32_t key_group)
{
    return key_group < ks->max_par ? ks->group_count[key_group] : 0;
}

uint64_t eng_kstate_rank(uint64_t key)
{
    return hash_key(key);
}

/* Moves a[i] down into the ranked run a[0..i); returns how far it moved. */
static inline size_t insert_ranked(struct eng_kstate_entry *a, size_t i)
{
    struct eng_kstate_entry x = a[i];
    uint64_t r = hash_key(x.key);
    size_t j = i;
    while (j > 0 && hash_key(a[j - 1].key) > r) {
        a[j] = a[j - 1];
        j--;
    }
    a[j] = x;
    return i - j;
}

static inline void swap_entry(struct eng_kstate_entry *a, struct eng_kstate_entry *b)
{
    struct eng_kstate_entry t = *a;
    *a = *b;
    *b = t;
}

/* Sorts a[0..n) by rank (ranks are distinct): quicksort on a median of
 * three, recursing into the smaller side, insertion sort for short runs.
 * Only for runs the table did not leave nearly in order (sort_run). */
static void sort_entries(struct eng_kstate_entry *a, size_t n)
{
    while (n > 16) {
        size_t mid = n / 2;
        if (hash_key(a[mid].key) < hash_key(a[0].key))
            swap_entry(&a[mid], &a[0]);
        if (hash_key(a[n - 1].key) < hash_key(a[0].key))
            swap_entry(&a[n - 1], &a[0]);
        if (hash_key(a[n - 1].key) < hash_key(a[mid].key))
            swap_entry(&a[n - 1], &a[mid]);
        uint64_t pivot = hash_key(a[mid].key);
        size_t i = 0, j = n - 1;
        for (;;) {
            while (hash_key(a[i].key) < pivot)
                i++;
            while (hash_key(a[j].key) > pivot)
                j--;
            if (i >= j)
                break;
            swap_entry(&a[i], &a[j]);
            i++;
            j--;
        }
        /* a[0..j] <= pivot <= a[j+1..n) */
        size_t left = j + 1;
        if (left < n - left) {
            sort_entries(a, left);
            a += left;
            n -= left;
        } else {
            sort_entries(a + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++)
        insert_ranked(a, i);
}

/* Sorts one group's run by rank.  The run comes in slot order, which is
 * rank order but for keys displaced within their cluster (a slot or two at
 * the load factor kept) and the wrapped ones, which collect appends last:
 * an insertion sort does it in about one pass.  Keys that pile into long
 * clusters would make that quadratic, so past a budget of moves it gives up
 * and quicksorts the run. */
static void sort_run(struct eng_kstate_entry *a, size_t n)
{
    size_t budget = 4 * n + 64;
    for (size_t i = 1; i < n; i++) {
        size_t moved = insert_ranked(a, i);
        if (moved > budget) {
            sort_entries(a, n);
            return;
        }
        budget -= moved;
    }
}

size_t eng_kstate_collect(const struct eng_kstate *ks, uint32_t kg_first, uint32_t kg_last,
                          struct eng_kstate_entry **out)
{
    if (kg_last >= ks->max_par)
        kg_last = ks->max_par - 1;
    size_t n = 0, ngroups = kg_first <= kg_last ? (size_t)kg_last - kg_first + 1 : 0;
    /* Counting sort by key group (the counts are kept up to date), then
     * each group's run sorted by rank: the order depends only on the keys,
     * never on the table's insertion history or size.  Entries are filled
     * in one walk over the table, in slot order, so nothing is read from it
     * at random afterwards; the keys of the cluster that wraps past the
     * last slot (their home is above their slot) are filled after the
     * others, as their ranks are the highest. */
    size_t *at = rt_xmalloc((ngroups + 1) * sizeof(size_t));
    for (size_t g = 0; g < ngroups; g++) {
        at[g] = n;
        n += ks->group_count[kg_first + g];
    }
    at[ngroups] = n;
    struct eng_kstate_entry *e = rt_xmalloc((n ? n : 1) * sizeof(*e));
    size_t cap = (size_t)1 << ks->bits, wrapped_end = cap;
    for (int pass = 0; pass < 2 && n; pass++) {
        size_t end = pass ? wrapped_end : cap;
        for (size_t i = 0; i < end; i++) {
            const struct slot *s = &ks->slots[i];
            if (!s->tag) {
                if (wrapped_end == cap)
                    wrapped_end = i;    /* the first empty slot ends the wrapped cluster */
                continue;
            }
            if (s->tag - 1 < kg_first || s->tag - 1 > kg_last)
                continue;
            if ((home_of(ks, hash_key(s->key)) > i) != pass)
                continue;
            e[at[s->tag - 1 - kg_first]++] = (struct eng_kstate_entry){
                .key = s->key, .value = s->value, .key_group = s->tag - 1,
                .blob_len = s->blob_len & ~LOGICAL_BIT,
                .blob = ks->blobs ? ks->blobs[i] : NULL,
                .logical = (s->blob_len & LOGICAL_BIT) != 0};
        }
    }
    size_t start = 0;
    for (size_t g = 0; g < ngroups; g++) {
        size_t end = at[g]; /* the fill loop left at[g] at the group's end */
        sort_run(e + start, end - start);
        start = end;
    }
    rt_free(at);
    *out = e;
    return n;
}
