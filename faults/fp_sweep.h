/*
 * fp_sweep.h - failpoints armed for a failpoint sweep (`minicluster sweep`,
 * scenarios/sweep.c): count every hit of a catalogued failpoint during a
 * run, and fail exactly its N-th hit (transient) or every hit from the N-th
 * on (persistent).  Unlike flt_apply this needs no world: a point is armed
 * before the run that will hit it starts, and counts from its first hit.
 *
 * libfiu's table is process-wide, so arm, run and read on one thread, with
 * no other run in the process.  A run's end (flt_failpoints_reset) disables
 * the point in libfiu; the counts stay readable until the next arm.
 */
#ifndef FLT_FP_SWEEP_H
#define FLT_FP_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Arms catalogued failpoint NAME: counts hits from 0; with N > 0 fails hit N
 * (PERSISTENT: and every later one) with FAILINFO as fiu_failinfo() gives it
 * (NULL: the natural errno; dfs/slow: a delay in ns; task/process: the task
 * that takes the failing step fails).  N = 0 only counts.  Returns 0, or
 * -EINVAL (not catalogued) with ERR saying so. */
int flt_sweep_arm(const char *name, uint64_t n, bool persistent, void *failinfo, char *err,
                  size_t errlen);
/* Hits and failures of NAME since it was last armed (0 if never). */
void flt_sweep_counts(const char *name, uint64_t *hits, uint64_t *fails);
/* Disables every point armed here. */
void flt_sweep_disarm_all(void);

#endif
