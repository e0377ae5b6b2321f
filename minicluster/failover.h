/*
 * failover.h - Flink's failover strategies
 * (jobmanager.execution.failover-strategy = full | region): which tasks to
 * restart when some tasks have failed.  Pure functions over the engine's
 * execution graph; no threads, no I/O, no allocation.
 *
 * full restarts every task.  region (Flink's default,
 * RestartPipelinedRegionFailoverStrategy) restarts the pipelined regions
 * holding a failed task, then, transitively, every region that consumes a
 * result produced by a restarted region (the result will be produced
 * again) and every region that produces a result a restarted region must
 * read again but that is not persisted.  Flink keeps blocking (batch)
 * results on disk, so only the first rule crosses regions there; here every
 * exchange is pipelined and nothing is persisted, so both rules apply -
 * and, since the engine already builds regions as connected components over
 * channels (eng_execgraph), no channel ever joins two regions: in practice
 * region failover restarts exactly the failed tasks' regions.  A job with
 * an all-to-all exchange (hash, rebalance, broadcast) is one region, so
 * region and full failover restart the same tasks; jobs made of parallel
 * forward-only pipelines restart one pipeline.
 */
#ifndef MC_FAILOVER_H
#define MC_FAILOVER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/jobgraph.h"

/* The strategies; names are Flink's configuration values. */
enum mc_failover {
    MC_FAILOVER_REGION, /* "region", Flink's default */
    MC_FAILOVER_FULL,   /* "full" */
};

#define MC_FAILOVER_KEY "jobmanager.execution.failover-strategy"

/* "region" or "full". */
const char *mc_failover_name(enum mc_failover kind);

/* Parses a value of jobmanager.execution.failover-strategy (case-
 * insensitive).  0, or -EINVAL with "jobmanager.execution.failover-strategy:
 * unknown strategy 'x' (expected full or region)" in err (NUL-terminated
 * when errlen > 0; err may be NULL). */
int mc_failover_parse(const char *value, enum mc_failover *out, char *err, size_t errlen);

/*
 * The tasks to restart after the tasks failed[0..nfailed-1] failed.
 * restart_mask has eng_execgraph_task_count(eg) bytes, owned by the caller;
 * on success restart_mask[t] is 1 for each task to restart and 0 otherwise,
 * and *nrestart (may be NULL) is how many are 1.  Duplicate failed ids are
 * fine; nfailed == 0 restarts nothing.  Returns 0, or -EINVAL (mask
 * untouched) for a NULL graph or mask, an unknown kind, or a failed id
 * out of range.
 * Deterministic; callable from any thread (eg is only read).
 */
int mc_failover_tasks(const struct eng_execgraph *eg, enum mc_failover kind,
                      const uint32_t *failed, uint32_t nfailed, uint8_t *restart_mask,
                      uint32_t *nrestart);

/* Tasks lost with a TaskManager: writes to failed[] (capacity ntasks) the
 * ids t, ascending, with placement[t] == tm, and returns how many.  The
 * placement array maps each task of an attempt to its TaskManager id. */
uint32_t mc_failover_tasks_on_tm(const uint32_t *placement, uint32_t ntasks, uint32_t tm,
                                 uint32_t *failed);

#endif
