/*
 * faults_internal.h - what faults.c (the actions) and failpoints.c (the
 * catalogue and libfiu control) share.
 */
#ifndef FLT_FAULTS_INTERNAL_H
#define FLT_FAULTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/job.h"
#include "faults/faults.h"

/* A failpoint enabled through flt__fp_enable: slot index and the generation
 * that names this use of the slot (a reset bumps it, so a late heal is harmless). */
struct flt__fp_ref {
    int slot;
    uint32_t gen;
};

struct flt__fp_args {
    const char *name;
    int mode;                           /* enum flt_fp_mode */
    double probability;
    uint64_t nth;
    void *failinfo;                     /* what fiu_failinfo() returns */
    const struct eng_fail_point *task;  /* task/process: copied into the slot (failinfo) */
    struct mc_job *once_job;            /* fail only until this job restarts */
};

/* Enables a->name in libfiu with the decision callback.  0, or -EBUSY (that
 * name has a fault), -ENOSPC (too many at once), -EIO (libfiu refused). */
int flt__fp_enable(struct rt_world *w, const struct flt__fp_args *a, struct flt__fp_ref *out,
                   char *why, size_t len);
void flt__fp_disable(struct flt__fp_ref r);
void flt__fp_counts(struct flt__fp_ref r, uint64_t *hits, uint64_t *fails);

#endif
