/*
 * engine_env.h - what the engine-level tests stand on (test_engine.c,
 * test_region.c): no cluster, just a node for the job's runner, worker nodes
 * each running a task host (eng_taskhost_spawn), and a DFS in a fresh run
 * directory.  Placement, restart and failover policies stay the test's own.
 */
#ifndef TESTS_ENGINE_ENV_H
#define TESTS_ENGINE_ENV_H

#include <stdatomic.h>
#include <stdint.h>

#include "engine/jobrun.h"
#include "runtime/dfs.h"

#define EENV_WORKERS 3
#define EENV_WAIT_NS (60 * RT_NS_PER_SEC)

struct engine_env {
    struct rt_world *w;
    struct dfs *dfs;
    char root[64];                      /* the run directory; eenv_down removes it */
    struct rt_node *jm;                 /* the job's runner lives here */
    struct rt_node *tm[EENV_WORKERS];
    _Atomic rt_addr host[EENV_WORKERS]; /* their task hosts */
    struct eng_job *job;                /* eenv_down frees it */
    _Atomic rt_addr runner;
};

/* Zeroes e, then makes a world of kind (seed, 100 us links), a run directory
 * "$TMPDIR/mc-test-<tag>-XXXXXX", a DFS there (200 us base latency), the
 * runner's node and the workers with their task hosts. */
void eenv_up(struct engine_env *e, enum rt_world_kind kind, const char *tag, uint64_t seed);
/* The same with the world's configuration and the DFS's base latency given. */
void eenv_up_with(struct engine_env *e, const struct rt_world_config *wc, const char *tag,
                  uint64_t dfs_latency_ns);

/* (Re)spawns the task host of worker i and waits until it is there. */
void eenv_start_host(struct engine_env *e, int i);

/* Makes job 1 of g (checkpoints every interval_ms, `retained` retained) and
 * spawns its runner with pol on the runner's node. */
void eenv_submit(struct engine_env *e, struct eng_jobgraph *g, uint64_t interval_ms,
                 uint32_t retained, const struct eng_jobrun_policy *pol);

/* The same with the job's configuration given. */
void eenv_submit_cfg(struct engine_env *e, struct eng_jobgraph *g,
                     const struct eng_job_config *cfg, const struct eng_jobrun_policy *pol);

/* rt_world_wait predicate: e's job has ended. */
bool eenv_job_ended(void *e);

/* Waits until checkpoint id of e's job completed or the job ended; the
 * result of rt_world_wait. */
int eenv_wait_checkpoint(struct engine_env *e, uint64_t id);

/* Frees the world (stopping its threads), the DFS and the job, and removes
 * the run directory. */
void eenv_down(struct engine_env *e);

#endif
