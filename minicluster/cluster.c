/*
 * cluster.c - creating a cluster's nodes, submitting jobs, the TaskManager
 * operations faults use (kill, crash, stop, restart, add), and failing the
 * jobs of a JobManager lost without HA.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "minicluster/cluster_internal.h"
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
    c->slot_request_timeout_ns = 300 * RT_NS_PER_SEC;
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
    c->njms = 1 + (cfg->ha ? cfg->standby_jms : 0);
    if (c->njms > MC_MAX_JMS)
        c->njms = MC_MAX_JMS;
    for (uint32_t i = 0; i < c->njms; i++) {
        char jm[64];
        if (i == 0)
            snprintf(jm, sizeof(jm), "%s-jm", name);
        else
            snprintf(jm, sizeof(jm), "%s-jm%u", name, i);
        struct rt_node *n = rt_node_new(w, jm);
        if (!n || rt_node_start(n) < 0) {
            rt_free(c);
            return -ENOSPC;
        }
        c->jms[i] = (struct mc_jm){ .cluster = c, .index = i, .node = n };
    }
    c->jm = c->jms[0].node;
    /* The first JobManager leads from the start; with HA its elector
     * publishes the lease (term 1) and the standbys watch it. */
    atomic_store(&c->leader, c->jm);
    atomic_store(&c->leader_term, cfg->ha ? 1 : 0);
    atomic_store(&c->leader_since_ns, rt_now(w));
    rt_node_call(c->jm, mc__jm_spawn, c);
    for (uint32_t i = 0; cfg->ha && i < c->njms; i++)
        rt_node_call(c->jms[i].node, mc__ha_spawn, &c->jms[i]);
    for (uint32_t i = 0; i < cfg->taskmanagers; i++) {
        int idx = mc__tm_reserve(c);
        if (idx < 0)
            return idx;
        if (cfg->launch_initial && cfg->provider == MC_PROVIDER_ACTIVE)
            c->tms[idx].start_delay_ns = cfg->launch_latency_ns;
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
    /* All nodes at once (TaskManagers first, as before): one after the
     * other, each stop waited for its thread in turn, and a per-job
     * cluster's teardown paid that for every node. */
    struct rt_node *nodes[MC_MAX_TMS + MC_MAX_JMS];
    uint32_t n = 0, ntms = atomic_load(&c->ntms);
    for (uint32_t i = 0; i < ntms && i < MC_MAX_TMS; i++)
        nodes[n++] = c->tms[i].node;
    for (uint32_t i = 0; i < c->njms; i++)
        nodes[n++] = c->jms[i].node;
    rt_nodes_stop(nodes, n);
}

struct rt_node *mc_cluster_leader(const struct mc_cluster *c)
{
    return atomic_load(&((struct mc_cluster *)c)->leader);
}

static bool job_ended(const struct mc_job *j)
{
    return eng_job_ended(j->ej);
}

bool mc_cluster_jobs_orphaned(const struct mc_cluster *c)
{
    struct mc_cluster *cc = (struct mc_cluster *)c;
    if (c->cfg.ha || !rt_node_is_down(c->jm))
        return false;
    uint32_t n = atomic_load(&cc->njobs);
    for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
        struct mc_job *j = atomic_load(&cc->jobs[i]);
        if (j && !job_ended(j))
            return true;
    }
    return false;
}

int mc_cluster_fail_orphaned(struct mc_cluster *c)
{
    static const char reason[] = "JobManager lost and high availability is off: the job cannot "
                                 "be recovered";
    if (!mc_cluster_jobs_orphaned(c))
        return 0;
    int failed = 0;
    uint64_t now = rt_now(c->w);
    uint32_t n = atomic_load(&c->njobs);
    for (uint32_t i = 0; i < n && i < MC_MAX_JOBS; i++) {
        struct mc_job *j = atomic_load(&c->jobs[i]);
        if (!j || job_ended(j))
            continue;
        /* The runner died with the JobManager node: nobody else writes the job. */
        atomic_store_explicit(&j->ej->state, ENG_JOB_FAILED, memory_order_release);
        eng_job_event(j->ej, now, "%s: %s", eng_job_state_name(ENG_JOB_FAILED), reason);
        atomic_store(&j->finished_ns, now);
        rt_trace(c->w, NULL, "job_state", "\"job\":%u,\"state\":\"%s\",\"reason\":\"jobmanager lost\"",
                 j->ej->id, eng_job_state_name(ENG_JOB_FAILED));
        failed++;
    }
    rt_world_notify(c->w);
    return failed;
}

void mc_cluster_free(struct mc_cluster *c)
{
    rt_free(c);
}

int mc_cluster_submit(struct mc_cluster *c, struct eng_jobgraph *g, uint32_t job_id,
                      const char *app, struct mc_job **out, char *err, size_t errlen)
{
    return mc_cluster_submit_artifacts(c, g, job_id, app, 0, out, err, errlen);
}

int mc_cluster_submit_artifacts(struct mc_cluster *c, struct eng_jobgraph *g, uint32_t job_id,
                                const char *app, uint64_t artifact_bytes, struct mc_job **out,
                                char *err, size_t errlen)
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
    j->artifact_bytes = artifact_bytes;     /* before any TaskManager can see the job */
    for (uint32_t s = 0; s < 64; s++)
        atomic_store(&j->slot_tm[s], -1);
    atomic_store(&j->submitted_ns, rt_now(c->w));
    /* Registered before the leader sees it, so that a later leader finds the
     * job its store names (the process memory standing for the graph). */
    unsigned slot = atomic_fetch_add(&c->njobs, 1);
    if (slot < MC_MAX_JOBS)
        atomic_store(&c->jobs[slot], j);
    rc = slot < MC_MAX_JOBS ? rt_node_call(mc_cluster_leader(c), mc__jm_submit, j) : -ENOSPC;
    if (rc < 0) {
        if (slot < MC_MAX_JOBS)
            atomic_store(&c->jobs[slot], NULL);
        if (rc == -ENOSPC)
            snprintf(err, errlen, "%s has %d jobs already", c->name, MC_MAX_JOBS);
        else
            snprintf(err, errlen, "the JobManager of %s is down", c->name);
        eng_job_free(ej);
        rt_free(j);
        return rc;
    }
    *out = j;
    return 0;
}

struct mc_job *mc__cluster_job(struct mc_cluster *c, uint32_t id)
{
    /* Newest first: the job a deployment or a download is for is usually
     * among the latest, and a session may hold thousands. */
    uint32_t n = atomic_load(&c->njobs);
    for (uint32_t i = n < MC_MAX_JOBS ? n : MC_MAX_JOBS; i-- > 0;) {
        struct mc_job *j = atomic_load(&c->jobs[i]);
        if (j && j->ej->id == id)
            return j;
    }
    return NULL;
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
