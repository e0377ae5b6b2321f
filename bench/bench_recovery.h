/*
 * bench_recovery.h - the pieces of `minicluster bench recovery`: one crash
 * and restore run of a stateful job (bench_recovery.c) and its floor; the
 * bench itself, with the sim runs, is in bench_recovery_sim.c.
 */
#ifndef BENCH_RECOVERY_H
#define BENCH_RECOVERY_H

#include <stdint.h>

#include "engine/jobgraph.h"
#include "runtime/rt.h"

struct bench_rec_params {
    enum rt_world_kind kind;
    uint64_t hb_interval_ns, hb_timeout_ns;
    uint64_t restart_delay_ns;
    uint64_t chk_interval_ns;
    uint64_t records, keys, rate;       /* per source subtask; rate 0: unthrottled */
    uint64_t bytes_per_key;             /* ALLOC's state per key */
};

struct bench_rec_result {
    double detect_ms, schedule_ms, restore_ms, catchup_ms;
    double bound_ms;                    /* the floor over the same files */
    uint64_t state_bytes;               /* bytes of the restored checkpoint's state files */
    uint64_t restored_checkpoint, replayed_records;
    uint32_t state_files, restarts;
};

/* One run: stand up world, DFS and cluster, run the job, crash the
 * TaskManager of subtask 0 after two checkpoints, wait for the end, verify
 * exactly-once, measure the floor.  0, -EPROTO for a broken run (said on
 * stderr), or -errno. */
int bench_rec_run(const struct bench_rec_params *p, struct bench_rec_result *res);

/* The floor: reads every *.state file of dir with read(2) and decodes each
 * into a fresh eng_kstate (max parallelism from g's vertex v<N>).  *ms is the
 * loop's wall time, *bytes the files' size; with src_offsets, the sum of the
 * sources' "source.offset" values.  0 or -errno / -EBADMSG. */
int bench_rec_bound(const char *dir, const struct eng_jobgraph *g, double *ms,
                    uint64_t *bytes, uint64_t *src_offsets);

#endif
