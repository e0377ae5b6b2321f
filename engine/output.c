/*
 * output.c - struct eng_output, the external system the transactional sink
 * writes to: a stand-in for a transactional database (Kafka with
 * transactions, say) that outlives every node.
 *
 * It is the one file of engine/ that uses pthreads and plain malloc, on
 * purpose: the output belongs to no node (a node crash must not free it, and
 * its memory must not count against a TaskManager), and sink subtasks on
 * different TaskManager threads stage and commit concurrently.  One mutex
 * guards everything; a stage is a memcpy, a commit a hash update per record
 * of the txn, both under one lock hold so readers see a txn wholly or not at
 * all.  eng_output_foreach calls back under the lock, so a callback must not
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
 * ascending id order.  A pending txn's records live in a list of fixed-size
 * chunks, so staging never copies what is already staged; freed chunks go
 * to a small spare list for the next txn.  Pending records are invisible to
 * every reader (records, keys, foreach, hence eng_output_verify).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jobgraph.h"
#include "engine/operator.h"

#define KEYS_MIN_CAP 1024
#define CHUNK_RECS 4000     /* ~94 KiB a chunk: below malloc's mmap threshold */
#define SPARE_MAX 32        /* chunks kept for reuse; the rest go back to malloc */

struct chunk {
    struct chunk *next;
    uint32_t n;
    struct eng_record rec[CHUNK_RECS];
};

struct txn {
    struct txn *next;       /* the owner's next pending txn, higher id */
    uint64_t id;
    uint64_t records;
    struct chunk *head, *tail;
};

struct owner {
    uint32_t vertex, subtask;
    uint64_t txn;           /* highest committed */
    struct txn *pending;    /* ascending id */
};

struct eng_output {
    pthread_mutex_t lock;
    struct eng_output_key *keys;    /* open addressing; records == 0 marks a free slot */
    uint64_t cap, n_keys;           /* cap a power of two */
    uint64_t records;               /* committed */
    uint64_t pending_records;
    struct owner *owners;
    uint32_t n_owners, cap_owners;
    struct chunk *spare;
    uint32_t n_spare;
};

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (!p)
        abort();
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort();
    return p;
}

/* Creates an empty output; never NULL.  Any thread. */
struct eng_output *eng_output_new(void)
{
    struct eng_output *o = xcalloc(1, sizeof(*o));
    o->keys = xcalloc(KEYS_MIN_CAP, sizeof(*o->keys));
    o->cap = KEYS_MIN_CAP;
    pthread_mutex_init(&o->lock, NULL);
    return o;
}

static void free_chunks(struct chunk *c)
{
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
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
            free_chunks(t->head);
            free(t);
            t = next;
        }
    }
    free_chunks(o->spare);
    free(o->keys);
    free(o->owners);
    free(o);
}

static inline uint64_t home_of(const struct eng_output *o, uint64_t key)
{
    return eng_key_hash(key) & (o->cap - 1);
}

static uint64_t slot_of(const struct eng_output *o, uint64_t key)
{
    uint64_t i = home_of(o, key);
    while (o->keys[i].records && o->keys[i].key != key)
        i = (i + 1) & (o->cap - 1);
    return i;
}

/* Doubles the table when one more key would pass a load factor of 1/2. */
static void grow_keys(struct eng_output *o)
{
    if ((o->n_keys + 1) * 2 <= o->cap)
        return;
    struct eng_output_key *old = o->keys;
    uint64_t old_cap = o->cap;
    o->cap *= 2;
    o->keys = xcalloc(o->cap, sizeof(*o->keys));
    for (uint64_t i = 0; i < old_cap; i++)
        if (old[i].records)
            o->keys[slot_of(o, old[i].key)] = old[i];
    free(old);
}

/* Makes n records visible.  Caller holds the lock. */
static void apply(struct eng_output *o, const struct eng_record *rec, uint32_t n)
{
    /* Fetch the home slot a few records ahead: a large output table
     * otherwise costs a memory latency per record. */
    enum { AHEAD = 8 };
    for (uint32_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            __builtin_prefetch(&o->keys[home_of(o, rec[i + AHEAD].key)], 1);
        struct eng_output_key *k = &o->keys[slot_of(o, rec[i].key)];
        if (!k->records) {
            grow_keys(o);
            k = &o->keys[slot_of(o, rec[i].key)];
            k->key = rec[i].key;
            k->max = rec[i].value;
            o->n_keys++;
        } else if (rec[i].value > k->max) {
            k->max = rec[i].value;
        }
        k->records++;
        k->last = rec[i].value;
    }
    o->records += n;
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

static struct chunk *chunk_new(struct eng_output *o)
{
    struct chunk *c = o->spare;
    if (c) {
        o->spare = c->next;
        o->n_spare--;
    } else {
        c = xmalloc(sizeof(*c));
    }
    c->next = NULL;
    c->n = 0;
    return c;
}

/* Releases a txn (already unlinked) and its chunks, keeping a few spares. */
static void txn_free(struct eng_output *o, struct txn *t)
{
    struct chunk *c = t->head;
    while (c) {
        struct chunk *next = c->next;
        if (o->n_spare < SPARE_MAX) {
            c->next = o->spare;
            o->spare = c;
            o->n_spare++;
        } else {
            free(c);
        }
        c = next;
    }
    o->pending_records -= t->records;
    free(t);
}

/* Stages records into a pending txn; see operator.h.  Always 0 today. */
int eng_output_stage(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                     const struct eng_record *rec, uint32_t n)
{
    if (n == 0)
        return 0;
    pthread_mutex_lock(&o->lock);
    struct owner *w = get_owner(o, vertex, subtask);
    struct txn **at = &w->pending;
    while (*at && (*at)->id < txn)
        at = &(*at)->next;
    struct txn *t = *at;
    if (!t || t->id != txn) {
        t = xcalloc(1, sizeof(*t));
        t->id = txn;
        t->next = *at;
        *at = t;
    }
    t->records += n;
    o->pending_records += n;
    while (n) {
        if (!t->tail || t->tail->n == CHUNK_RECS) {
            struct chunk *c = chunk_new(o);
            if (t->tail)
                t->tail->next = c;
            else
                t->head = c;
            t->tail = c;
        }
        struct chunk *c = t->tail;
        uint32_t take = CHUNK_RECS - c->n < n ? CHUNK_RECS - c->n : n;
        memcpy(c->rec + c->n, rec, (size_t)take * sizeof(*rec));
        c->n += take;
        rec += take;
        n -= take;
    }
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
        for (struct chunk *c = t->head; c; c = c->next)
            apply(o, c->rec, c->n);
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

/* Discards pending txns > txn of one owner; see operator.h. */
uint64_t eng_output_abort_after(struct eng_output *o, uint32_t vertex, uint32_t subtask,
                                uint64_t txn)
{
    uint64_t dropped = 0;
    pthread_mutex_lock(&o->lock);
    struct owner *w = find_owner(o, vertex, subtask);
    struct txn **at = w ? &w->pending : NULL;
    while (at && *at && (*at)->id <= txn)
        at = &(*at)->next;
    while (at && *at) {
        struct txn *t = *at;
        *at = t->next;
        dropped += t->records;
        txn_free(o, t);
    }
    pthread_mutex_unlock(&o->lock);
    return dropped;
}

/* Stages and commits in one step; see operator.h. */
int eng_output_commit(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                      const struct eng_record *rec, uint32_t n, bool *applied)
{
    *applied = false;
    pthread_mutex_lock(&o->lock);
    struct owner *w = get_owner(o, vertex, subtask);
    if (w->txn < txn) {
        apply(o, rec, n);
        w->txn = txn;
        *applied = true;
    }
    pthread_mutex_unlock(&o->lock);
    return 0;
}

uint64_t eng_output_records(const struct eng_output *o)
{
    struct eng_output *m = (struct eng_output *)o;  /* the lock is not part of the value */
    pthread_mutex_lock(&m->lock);
    uint64_t r = o->records;
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
    uint64_t r = o->n_keys;
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
    const struct eng_output_key *k = &o->keys[slot_of(o, key)];
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
    for (uint64_t i = 0; i < o->cap; i++)
        if (o->keys[i].records)
            fn(&o->keys[i], arg);
    pthread_mutex_unlock(&m->lock);
}
