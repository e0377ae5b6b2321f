/*
 * kstate.h - the keyed state backend: uint64 key -> int64 value, plus an
 * optional byte blob per key, grouped by key group.
 *
 * One instance per stateful operator subtask, touched by that subtask's
 * task only.  The per-record operations (get, get-or-insert, add) never
 * allocate except when the table grows.  Iteration is deterministic: by key
 * group, then by key, whatever the insertion history, so two runs that saw
 * the same records write byte-identical snapshots.
 */
#ifndef ENG_KSTATE_H
#define ENG_KSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/eng_record.h"

struct eng_kstate;

/* One key's state as seen by eng_kstate_collect. */
struct eng_kstate_entry {
    uint64_t key;
    int64_t value;
    uint32_t key_group;
    uint32_t blob_len;
    const uint8_t *blob;   /* NULL when blob_len is 0; borrowed from the state */
    uint32_t logical;      /* 1: the blob is a payload descriptor (ENG_PAYLOAD_LEN bytes) */
    uint32_t reserved;     /* 0: no padding, so entries compare with memcmp */
};

#define ENG_KSTATE_BLOB_MAX 0x7fffffffu     /* longest blob, bytes */

/* A payload descriptor: `bytes` bytes of declared state defined by `seed`,
 * carried instead of the bytes themselves.  The sim world keeps production-
 * sized declared state (state=SIZE) this way: a key's logical blob costs
 * ENG_PAYLOAD_LEN bytes of memory whatever it stands for, the snapshot
 * writes the descriptor, and the DFS charges the bytes it stands for (see
 * docs/checkpoint-format.md, "Logical blobs"). */
struct eng_payload {
    uint64_t bytes;
    uint64_t seed;
};
#define ENG_PAYLOAD_LEN 16      /* encoded: bytes, then seed, little-endian */
void eng_payload_put(uint8_t *out, const struct eng_payload *p);
void eng_payload_get(const uint8_t *in, struct eng_payload *p);

/* A new empty state for keys hashed into `max_parallelism` key groups
 * (1 .. ENG_MAX_PARALLELISM_LIMIT).  Never NULL; free with eng_kstate_free. */
struct eng_kstate *eng_kstate_new(uint32_t max_parallelism);
/* Frees the state and every blob; NULL is a no-op. */
void eng_kstate_free(struct eng_kstate *ks);

uint32_t eng_kstate_max_parallelism(const struct eng_kstate *ks);
/* Number of keys. */
size_t eng_kstate_count(const struct eng_kstate *ks);
/* Footprint in bytes: table, blob pointers, blob bytes, bookkeeping, and the
 * arrays kept from the last frozen copy for the next one. */
size_t eng_kstate_bytes(const struct eng_kstate *ks);
/* Grows the table so `n` keys fit without another resize (restore path). */
void eng_kstate_reserve(struct eng_kstate *ks, size_t n);
/* Removes every key and blob; keeps the table's capacity for reuse. */
void eng_kstate_clear(struct eng_kstate *ks);

/* Pointer to the value of `key`, or NULL when absent.  Pointers returned
 * by any function here stay valid until the next insert, remove or clear. */
int64_t *eng_kstate_get(struct eng_kstate *ks, uint64_t key);
/* Pointer to the value of `key`, inserting it with value 0 when absent;
 * *inserted (may be NULL) tells which. */
int64_t *eng_kstate_get_or_insert(struct eng_kstate *ks, uint64_t key, bool *inserted);
/* value(key) += delta, inserting the key at 0 first when absent. */
void eng_kstate_add(struct eng_kstate *ks, uint64_t key, int64_t delta);
/* eng_kstate_add(key, value) for each of n records, in order; the same
 * result, faster on states larger than the cache (prefetches ahead). */
void eng_kstate_add_batch(struct eng_kstate *ks, const struct eng_record *rec, uint32_t n);
/* How eng_kstate_aggregate_batch folds a record into its key's value. */
enum eng_kstate_agg {
    ENG_KSTATE_COUNT,   /* value += 1 */
    ENG_KSTATE_SUM,     /* value += record value (wrapping like Java's long) */
    ENG_KSTATE_MAX,     /* value = record value when inserted or larger */
};
/* For each of the n records in order: folds it into its key's value
 * (inserting the key at 0 when absent) and writes the record, its value
 * replaced by the key's updated value, to out[i].  out may equal in.  The
 * running aggregate per record, as COUNT/SUM/REDUCE emit it, with the
 * prefetching of eng_kstate_add_batch. */
void eng_kstate_aggregate_batch(struct eng_kstate *ks, enum eng_kstate_agg agg,
                                const struct eng_record *in, uint32_t n,
                                struct eng_record *out);
/* value(key) = value, inserting the key when absent. */
void eng_kstate_put(struct eng_kstate *ks, uint64_t key, int64_t value);
/* Removes `key` and its blob; returns whether it was present. */
bool eng_kstate_remove(struct eng_kstate *ks, uint64_t key);

/* Replaces the blob of `key` with a copy of len bytes (len 0 drops it;
 * at most ENG_KSTATE_BLOB_MAX),
 * inserting the key at value 0 when absent.  The blob is charged to the
 * calling node like any allocation. */
void eng_kstate_put_blob(struct eng_kstate *ks, uint64_t key, const void *data, uint32_t len);
/* Replaces the blob of `key` with a logical blob: the encoded descriptor
 * (ENG_PAYLOAD_LEN bytes, what eng_kstate_get_blob then returns), marked so
 * that snapshots write it as one. */
void eng_kstate_put_logical(struct eng_kstate *ks, uint64_t key, const struct eng_payload *p);
/* Whether key's blob is a logical one. */
bool eng_kstate_blob_is_logical(const struct eng_kstate *ks, uint64_t key);
/* The blob of `key` (borrowed), or NULL with *len = 0 when it has none. */
const uint8_t *eng_kstate_get_blob(const struct eng_kstate *ks, uint64_t key, uint32_t *len);

/* Where a blob's bytes were last written inline in a state file: the
 * checkpoint of that file and the offset of the key's entry in it (0, 0:
 * never).  Each blob carries one, so an incremental snapshot can refer to
 * the earlier file instead of writing the bytes again.  Only the snapshot
 * encoder reads or writes it, and a state's encodes run one at a time (on
 * its node's worker, or inline); blobs are created with it zeroed, so a
 * restored state writes everything once. */
struct eng_blob_loc {
    uint64_t checkpoint_id;
    uint64_t offset;
};
/* The location of a blob returned by this state (get blob, collect). */
struct eng_blob_loc *eng_kstate_blob_loc(const uint8_t *blob);

/* Where a key sorts within its key group in snapshots: a bijection of the
 * key (the table's own hash), so every key has its own rank. */
uint64_t eng_kstate_rank(uint64_t key);
/* Every key whose key group lies in [kg_first, kg_last], sorted by key
 * group then rank, into *out (a new rt_xmalloc array the caller frees with
 * rt_free; blobs inside are borrowed and valid until the state changes).
 * Returns the number of entries; *out is never NULL. */
size_t eng_kstate_collect(const struct eng_kstate *ks, uint32_t kg_first, uint32_t kg_last,
                          struct eng_kstate_entry **out);
/* A read-only copy of ks as it is now, for encoding a snapshot away from
 * the owner's thread while the owner goes on changing ks: the copy has its
 * own table (a memcpy: about 1 ms per 4 MB) and shares ks's blobs, which ks
 * does not free until every copy is thawed - blobs are replaced, never
 * written in place, so a shared one cannot change under the copy.  Only
 * the reading functions (count, collect, group count, max parallelism,
 * get blob) and eng_snapshot_encode take a copy.  Copy and thaw on the
 * owner's thread; eng_kstate_free of ks waits for the last thaw. */
struct eng_kstate *eng_kstate_freeze(struct eng_kstate *ks);
/* Releases a frozen copy (NULL is a no-op); with the last one, ks frees the
 * blobs it kept back (and itself, if eng_kstate_free came meanwhile). */
void eng_kstate_thaw(struct eng_kstate *copy);

/* Number of keys in one key group. */
size_t eng_kstate_group_count(const struct eng_kstate *ks, uint32_t key_group);

#endif
