/*
 * cluster_env.h - what the cluster tests stand on (test_cluster.c,
 * test_ha.c, test_blob.c, faults_env.c): a world with a run directory and a
 * DFS, a session cluster with the tests' usual settings, and the keyed job
 * they submit to it.  Each test keeps what is its own (seed, sizes, HA,
 * failover...) and changes the configuration after cenv_config.
 */
#ifndef TESTS_CLUSTER_ENV_H
#define TESTS_CLUSTER_ENV_H

#include <stdint.h>

#include "minicluster/cluster.h"
#include "engine/jobgraph.h"
#include "runtime/dfs.h"

#define CENV_JOBS 3                             /* jobs struct cluster_env keeps */
#define CENV_HB_NS (50 * RT_NS_PER_MS)          /* cenv_config's heartbeat interval */
#define CENV_HB_TIMEOUT_NS (300 * RT_NS_PER_MS) /* and heartbeat timeout */

struct cluster_env {
    struct rt_world *w;
    struct dfs *dfs;
    char root[64];                      /* the run directory; cenv_down removes it */
    struct rt_node *client;             /* NULL unless the test starts one */
    struct mc_cluster *c;
    struct mc_job *jobs[CENV_JOBS];     /* the test's jobs; cenv_down frees them */
};

/* Fills cfg with the tests' cluster: taskmanagers TaskManagers of two slots,
 * evenly spread, heartbeats every 50 ms with a 300 ms timeout, checkpoints
 * every 50 ms, fixed-delay restarts (5 attempts, 100 ms apart); the rest as
 * mc_cluster_config_defaults.  The caller changes what its test needs. */
void cenv_config(struct mc_cluster_config *cfg, uint32_t taskmanagers);

/* Sets cfg's fixed-delay restart strategy: attempts and delay as in the
 * configuration ("3", "50ms"). */
void cenv_restart(struct mc_cluster_config *cfg, const char *attempts, const char *delay);

/* Zeroes e, then makes a world of kind (seed, 100 us links), a run directory
 * "$TMPDIR/mc-test-<tag>-XXXXXX" and a DFS there with base latency
 * dfs_latency_ns.  What the cluster must not miss (a client node) goes in
 * between this and cenv_start. */
void cenv_up(struct cluster_env *e, enum rt_world_kind kind, const char *tag, uint64_t seed,
             uint64_t dfs_latency_ns);

/* Starts cluster name with cfg in e's world and waits until it is ready. */
void cenv_start(struct cluster_env *e, const char *name, const struct mc_cluster_config *cfg);

/* Frees the world (stopping its threads), the DFS, e's jobs and cluster,
 * and removes the run directory. */
void cenv_down(struct cluster_env *e);

/* source(records per subtask, 50 keys, 20000/s) -hash-> count -forward->
 * sink, all of parallelism par.  The caller owns the graph (submitting it
 * hands it over). */
struct eng_jobgraph *cenv_keyed_graph(const char *name, uint64_t records, uint32_t par);

#endif
