/*
 * eng_record.h - the record and the batch, the unit every operator and
 * channel moves.
 *
 * A record is three machine words and nothing else: the workloads of
 * minicluster are synthetic (sequences, random keys), so a fixed layout keeps
 * the per-record path free of allocation and indirection.  Records always
 * travel in batches of up to ENG_BATCH_CAP, which amortises every per-call
 * cost (vtable dispatch, channel handoff, back-pressure accounting).
 */
#ifndef ENG_RECORD_H
#define ENG_RECORD_H

#include <stdint.h>

#define ENG_BATCH_CAP 512 /* records per batch; a batch is ~12 KiB */

struct eng_record {
    uint64_t key;   /* partitioning and state key */
    int64_t value;  /* payload summed, counted, reduced */
    int64_t ts;     /* event time in ms, drives windows */
};

struct eng_batch {
    uint32_t n;                           /* records in use, <= ENG_BATCH_CAP */
    struct eng_record rec[ENG_BATCH_CAP];
};

#endif
