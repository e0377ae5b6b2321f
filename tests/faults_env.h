/*
 * faults_env.h - what test_faults.c stands on: a small session cluster with a
 * running job, fault application with its detail printed, predicates for
 * rt_world_wait, and the exactly-once check against the reference.
 */
#ifndef TESTS_FAULTS_ENV_H
#define TESTS_FAULTS_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "faults/faults.h"
#include "tests/cluster_env.h"

#define WAIT_NS (120 * RT_NS_PER_SEC)
#define MS RT_NS_PER_MS

struct until {
    struct cluster_env *e;
    unsigned n;
};

/* Cluster up, the job (cenv_keyed_graph "orders", parallelism 2, records per
 * subtask) submitted as e->jobs[0] and past its 2nd checkpoint.  tolerable:
 * failed checkpoints the job takes without failing. */
void env_up(struct cluster_env *e, enum rt_world_kind kind, uint64_t seed, uint32_t tolerable,
            uint64_t records);
/* Asserts no failpoint is left enabled, then frees everything. */
void env_down(struct cluster_env *e);
/* flt_apply that must succeed (prints its detail) / must be refused (returns rc). */
struct flt_active *apply(struct cluster_env *e, struct flt_spec s);
int apply_err(struct cluster_env *e, struct flt_spec s);
/* Predicates; struct until for the counted ones. */
bool lost_n(void *arg);
bool registered_n(void *arg);
bool failed_chk_n(void *arg);
bool chk_n(void *arg);
/* Job 0 restores a checkpoint again after a failed restore. */
bool restored_again(void *arg);
bool node_down(void *arg);
bool job_over(void *arg);
void wait_for(struct cluster_env *e, bool (*pred)(void *), void *arg, const char *what);
/* Waits for the end; the output exactly once (or at least once, dups_ok). */
void finishes(struct cluster_env *e, bool dups_ok);
void finishes_exactly_once(struct cluster_env *e);
bool has_event(struct cluster_env *e, const char *text);
/* The TaskManager hosting the job's subtask. */
struct flt_target tm_of(struct cluster_env *e, uint32_t subtask);

#endif
