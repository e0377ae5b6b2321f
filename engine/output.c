/*
 * output.c - struct eng_output, the external system the transactional sink
 * commits to: a stand-in for a database that outlives every node.
 *
 * It is the one file of engine/ that uses pthreads and plain malloc, on
 * purpose: the output belongs to no node (a node crash must not free it, and
 * its memory must not count against a TaskManager), and sink subtasks on
 * different TaskManager threads commit to it concurrently.  One mutex guards
 * everything; commits are short (a hash update per record).  eng_output_foreach
 * calls back under the lock, so a callback must not re-enter the same output;
 * taking another output's lock inside is fine as long as no caller nests the
 * two the other way round (eng_output_verify only nests expected -> committed).
 *
 * The stand-in database does not model running out of memory: a failed
 * malloc aborts the process, like rt_x* elsewhere (but without charging any
 * node), so eng_output_new never returns NULL.
 *
 * Per key it keeps the committed record count, the largest committed value
 * and the last one; per sink subtask (vertex, subtask) the highest committed
 * txn, which is what makes a re-commit after a restore idempotent.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jobgraph.h"
#include "engine/operator.h"

#define KEYS_MIN_CAP 1024

struct owner {
    uint32_t vertex, subtask;
    uint64_t txn;           /* highest committed */
};

struct eng_output {
    pthread_mutex_t lock;
    struct eng_output_key *keys;    /* open addressing; records == 0 marks a free slot */
    uint64_t cap, n_keys;           /* cap a power of two */
    uint64_t records;
    struct owner *owners;
    uint32_t n_owners, cap_owners;
};

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

/* Frees the output; NULL is a no-op.  No commit may be running. */
void eng_output_free(struct eng_output *o)
{
    if (!o)
        return;
    pthread_mutex_destroy(&o->lock);
    free(o->keys);
    free(o->owners);
    free(o);
}

static uint64_t slot_of(const struct eng_output *o, uint64_t key)
{
    uint64_t i = eng_key_hash(key) & (o->cap - 1);
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

static struct owner *find_owner(struct eng_output *o, uint32_t vertex, uint32_t subtask)
{
    for (uint32_t i = 0; i < o->n_owners; i++)
        if (o->owners[i].vertex == vertex && o->owners[i].subtask == subtask)
            return &o->owners[i];
    return NULL;
}

/* Commits a txn; see operator.h.  Atomic for every other thread (one lock
 * hold).  Always 0 today; the int leaves room for a fallible database. */
int eng_output_commit(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                      const struct eng_record *rec, uint32_t n, bool *applied)
{
    int rc = 0;
    *applied = false;
    pthread_mutex_lock(&o->lock);
    struct owner *w = find_owner(o, vertex, subtask);
    if (w && w->txn >= txn)
        goto out;
    if (!w) {
        if (o->n_owners == o->cap_owners) {
            uint32_t cap = o->cap_owners ? o->cap_owners * 2 : 16;
            struct owner *nw = realloc(o->owners, cap * sizeof(*nw));
            if (!nw)
                abort();
            o->owners = nw;
            o->cap_owners = cap;
        }
        w = &o->owners[o->n_owners++];
        *w = (struct owner){.vertex = vertex, .subtask = subtask, .txn = 0};
    }
    for (uint32_t i = 0; i < n; i++) {
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
    w->txn = txn;
    *applied = true;
out:
    pthread_mutex_unlock(&o->lock);
    return rc;
}

uint64_t eng_output_records(const struct eng_output *o)
{
    struct eng_output *m = (struct eng_output *)o;  /* the lock is not part of the value */
    pthread_mutex_lock(&m->lock);
    uint64_t r = o->records;
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
