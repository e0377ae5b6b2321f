/*
 * cluster.c - creating a cluster's nodes, submitting jobs, and the
 * TaskManager operations faults use (kill, crash, stop, restart, add).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "runtime/dfs.h"

void mc_cluster_config_defaults(struct mc_cluster_config *c)
{
    memset(c, 0, sizeof(*c));
    c->taskmanagers = 1;
    c->slots = 1;
    c->provider = MC_PROVIDER_STANDALONE;
    c->tm_idle_timeout_ns = 30 * RT_NS_PER_SEC;
    c->hb_interval_ns = 10 * RT_NS_PER_SEC;
    c->hb_timeout_ns = 50 * RT_NS_PER_SEC;
    c->hb_rpc_failure_threshold = 2;
    eng_job_config_defaults(&c->job);
    mc_restart_config_defaults(&c->restart, mc_restart_default_type(false));
    c->failover = MC_FAILOVER_REGION;
}

int mc__tm_reserve(struct mc_cluster *c)
{
    unsigned idx = atomic_fetch_add(&c->ntms, 1);
    if (idx >= MC_MAX_TMS) {
        atomic_fetch_sub(&c->ntms, 1);
        return -ENOSPC;
    }
    char name[64];
    snprintf(name, sizeof(name), "%s-tm%u", c->name, idx);
    struct rt_node *n = rt_node_new(c->w, name);
    if (!n) {
        atomic_fetch_sub(&c->ntms, 1);
        return -ENOSPC;
    }
    c->tms[idx].node = n;
    c->tms[idx].cluster = c;
    c->tms[idx].index = idx;
    atomic_store(&c->tms[idx].state, MC_TM_DOWN);
    return (int)idx;
}

int mc__tm_launch(struct mc_cluster *c, uint32_t tm)
{
    struct rt_node *n = c->tms[tm].node;
    int rc = rt_node_start(n);
    if (rc < 0)
        return rc;
    if (c->cfg.tm_memory)
        rt_node_set_mem_limit(n, c->cfg.tm_memory);
    atomic_store(&c->tms[tm].state, MC_TM_STARTING);
    atomic_store(&c->tms[tm].te, 0);
    return rt_node_call(n, mc__te_spawn, &c->tms[tm]);
}

int mc_cluster_new(struct rt_world *w, struct dfs *dfs, const char *name,
                   const struct mc_cluster_config *cfg, struct mc_cluster **out)
{
    struct mc_cluster *c = rt_xcalloc_process(1, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->w = w;
    c->dfs = dfs;
    c->cfg = *cfg;
    atomic_store(&c->created_ns, rt_now(w));
    char jm[64];
    snprintf(jm, sizeof(jm), "%s-jm", name);
    c->jm = rt_node_new(w, jm);
    if (!c->jm || rt_node_start(c->jm) < 0) {
        rt_free(c);
        return -ENOSPC;
    }
    rt_node_call(c->jm, mc__jm_spawn, c);
    for (uint32_t i = 0; i < cfg->taskmanagers; i++) {
        int idx = mc__tm_reserve(c);
        if (idx < 0)
            return idx;
        mc__tm_launch(c, (uint32_t)idx);
    }
    if (cfg->taskmanagers == 0)
        atomic_store(&c->ready_ns, rt_now(w));
    *out = c;
    return 0;
}

bool mc_cluster_ready(const struct mc_cluster *c)
{
    return atomic_load(&((struct mc_cluster *)c)->ready_ns) != 0;
}

void mc_cluster_stop(struct mc_cluster *c)
{
    uint32_t n = atomic_load(&c->ntms);
    for (uint32_t i = 0; i < n; i++)
        if (rt_node_is_up(c->tms[i].node))
            rt_node_stop(c->tms[i].node);
    rt_node_stop(c->jm);
}

void mc_cluster_free(struct mc_cluster *c)
{
    rt_free(c);
}

int mc_cluster_submit(struct mc_cluster *c, struct eng_jobgraph *g, uint32_t job_id,
                      const char *app, struct mc_job **out, char *err, size_t errlen)
{
    struct eng_job *ej;
    int rc = eng_job_new(job_id, g, &c->cfg.job, c->dfs, &ej, err, errlen);
    if (rc < 0)
        return rc;
    snprintf(ej->dir, sizeof(ej->dir), "%s/job-%u", c->name, job_id);
    struct mc_job *j = rt_xcalloc_process(1, sizeof(*j));
    j->ej = ej;
    j->cluster = c;
    snprintf(j->app, sizeof(j->app), "%s", app ? app : eng_jobgraph_name(g));
    for (uint32_t s = 0; s < 64; s++)
        atomic_store(&j->slot_tm[s], -1);
    atomic_store(&j->submitted_ns, rt_now(c->w));
    rc = rt_node_call(c->jm, mc__jm_submit, j);
    if (rc < 0) {
        snprintf(err, errlen, "the JobManager of %s is down", c->name);
        eng_job_free(ej);
        rt_free(j);
        return rc;
    }
    *out = j;
    return 0;
}

void mc_job_free(struct mc_job *j)
{
    if (!j)
        return;
    eng_job_free(j->ej);
    rt_free(j);
}

int mc_job_tm_of(const struct mc_job *j, uint32_t subtask)
{
    if (subtask >= 64)
        return -1;
    return atomic_load(&((struct mc_job *)j)->slot_tm[subtask]);
}

void mc_tm_kill(struct mc_cluster *c, uint32_t tm)
{
    if (tm < atomic_load(&c->ntms))
        rt_node_vanish(c->tms[tm].node);
}

void mc_tm_crash(struct mc_cluster *c, uint32_t tm)
{
    if (tm < atomic_load(&c->ntms))
        rt_node_crash(c->tms[tm].node);
}

void mc_tm_stop(struct mc_cluster *c, uint32_t tm)
{
    if (tm < atomic_load(&c->ntms))
        rt_node_stop(c->tms[tm].node);
}

int mc_tm_restart(struct mc_cluster *c, uint32_t tm)
{
    if (tm >= atomic_load(&c->ntms))
        return -EINVAL;
    return mc__tm_launch(c, tm);
}

int mc_tm_add(struct mc_cluster *c)
{
    int idx = mc__tm_reserve(c);
    if (idx < 0)
        return idx;
    int rc = mc__tm_launch(c, (uint32_t)idx);
    return rc < 0 ? rc : idx;
}
