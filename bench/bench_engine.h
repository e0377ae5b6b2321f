/*
 * bench_engine.h - what bench_engine.c (the jobs) and bench_engine_floor.c
 * (the bare loops they are compared with) share.  Internal to bench/.
 */
#ifndef BENCH_ENGINE_H
#define BENCH_ENGINE_H

#include <stdint.h>

/* Every floor generates the records a SOURCE_SEQUENCE subtask of parallelism
 * 1 emits (key = g % keys, value = ts = g), so figure and floor move the same
 * bytes with the same arithmetic.  Each returns 0 and the records/s in *rps,
 * or -EPROTO when its checksum shows records lost or corrupted.  Main thread,
 * outside any node. */

/* A bare batched SPSC ring (ENG_CHAN_SLOTS slots of struct eng_batch, head
 * and tail on their own cache lines, acquire/release, spin-waits) between a
 * producer thread filling batches and the calling thread reading them. */
int bench_floor_ring(uint64_t records, uint64_t keys, double *rps);

/* The same two loops through the engine's own channel (eng_chan_claim/
 * publish/peek/release with no actors attached, so no wake-up messages):
 * what the channel primitive costs apart from the tasks around it. */
int bench_floor_chan(uint64_t records, uint64_t keys, double *rps);

/* One thread summing value per key into a bare open-addressing table
 * (linear probing, Fibonacci hashing, load factor <= 1/2). */
int bench_floor_hashagg(uint64_t records, uint64_t keys, double *rps);

/* The same sums through the engine's state backend, eng_kstate_add_batch on
 * batches of ENG_BATCH_CAP: the keyed operator's backend without the task. */
int bench_floor_kstate(uint64_t records, uint64_t keys, double *rps);

#endif
