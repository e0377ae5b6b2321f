/* cluster_env.c - the cluster tests' common set-up (see cluster_env.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/operator.h"
#include "runtime/rt_dir.h"
#include "tests/cluster_env.h"

/* Only a broken cluster takes this long: a TSan build comes up in seconds. */
#define READY_NS (120 * RT_NS_PER_SEC)

void cenv_config(struct mc_cluster_config *cfg, uint32_t taskmanagers)
{
    mc_cluster_config_defaults(cfg);
    cfg->taskmanagers = taskmanagers;
    cfg->slots = 2;
    cfg->evenly_spread = true;
    cfg->hb_interval_ns = CENV_HB_NS;
    cfg->hb_timeout_ns = CENV_HB_TIMEOUT_NS;
    cfg->job.checkpoint_interval_ns = 50 * RT_NS_PER_MS;
    cenv_restart(cfg, "5", "100ms");
}

void cenv_restart(struct mc_cluster_config *cfg, const char *attempts, const char *delay)
{
    char err[128];
    mc_restart_config_defaults(&cfg->restart, MC_RESTART_FIXED_DELAY);
    if (mc_restart_config_set(&cfg->restart, "restart-strategy.fixed-delay.attempts", attempts,
                              err, sizeof(err)) < 0 ||
        mc_restart_config_set(&cfg->restart, "restart-strategy.fixed-delay.delay", delay, err,
                              sizeof(err)) < 0)
        fail_msg("restart strategy: %s", err);
}

void cenv_up(struct cluster_env *e, enum rt_world_kind kind, const char *tag, uint64_t seed,
             uint64_t dfs_latency_ns)
{
    memset(e, 0, sizeof(*e));
    struct rt_world_config wc = { .kind = kind, .seed = seed, .link_latency_ns = 100000 };
    assert_int_equal(rt_world_new(&wc, &e->w), 0);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "mc-test-%s", tag);
    assert_int_equal(rt_dir_make_temp(prefix, e->root, sizeof(e->root)), 0);
    struct dfs_config dc = { .root = e->root, .base_latency_ns = dfs_latency_ns };
    assert_int_equal(dfs_new(e->w, &dc, &e->dfs), 0);
}

static bool ready(void *arg) { return mc_cluster_ready(arg); }

void cenv_start(struct cluster_env *e, const char *name, const struct mc_cluster_config *cfg)
{
    assert_int_equal(mc_cluster_new(e->w, e->dfs, name, cfg, &e->c), 0);
    if (rt_world_wait(e->w, ready, e->c, READY_NS) != 0)
        fail_msg("cluster %s: not ready after %llu s (%u of %u TaskManagers registered)", name,
                 (unsigned long long)(READY_NS / RT_NS_PER_SEC),
                 (unsigned)atomic_load(&e->c->registered), (unsigned)cfg->taskmanagers);
}

void cenv_down(struct cluster_env *e)
{
    rt_world_free(e->w);
    dfs_free(e->dfs);
    for (int i = 0; i < CENV_JOBS; i++)
        mc_job_free(e->jobs[i]);
    mc_cluster_free(e->c);
    rt_dir_remove(e->root);
}

struct eng_jobgraph *cenv_keyed_graph(const char *name, uint64_t records, uint32_t par)
{
    struct eng_jobgraph *g = eng_jobgraph_new(name);
    struct eng_op_args src = { .records = records, .keys = 50, .rate = 20000 };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, par, 0);
    int c = eng_jobgraph_add_vertex(g, "count", ENG_OP_COUNT, NULL, par, 0);
    int k = eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, par, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)c, ENG_EDGE_HASH);
    eng_jobgraph_add_edge(g, (uint32_t)c, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}
