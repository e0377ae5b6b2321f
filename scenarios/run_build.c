/*
 * run_build.c - from a scenario to what the cluster and engine take: the
 * cluster configuration (Flink's keys) and one job graph per job.
 *
 * A pipeline `source | map | keyby | sum | sink` becomes vertices joined by
 * forward edges, except that `keyby` is a partitioning, not an operator: it
 * makes the next edge a HASH edge (keyed operators always get one).  The
 * scenario speaks of whole jobs (records=2M, rate=500k/s); the engine's
 * sources are per subtask, so totals are split over the parallelism.  A
 * job's `state=SIZE` becomes an ALLOC operator after its keyed operator
 * holding SIZE / keys bytes per key, so the job really carries that state
 * (in the sim world as payload descriptors, which the DFS charges in full).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/operator.h"
#include "minicluster/cluster.h"
#include "runtime/dfs.h"
#include "scenarios/run_internal.h"

static uint64_t cfg_u(const struct scn_scenario *s, const char *key, uint64_t dflt)
{
    union scn_value v;
    return scn_config_get(s, key, &v) == 0 ? v.u : dflt;
}

static bool cfg_set(const struct scn_scenario *s, const char *key)
{
    for (size_t i = 0; i < s->n_config; i++)
        if (strcmp(s->config[i].key->name, key) == 0)
            return true;
    return false;
}

/* Restart-strategy keys go to the restart module as text, in Flink's form. */
static int restart_from(const struct scn_scenario *s, struct mc_restart_config *rc,
                        bool checkpointing, char *err, size_t errlen)
{
    enum mc_restart_type type = mc_restart_default_type(checkpointing);
    const struct scn_config_key *tk = scn_config_lookup("restart-strategy.type");
    union scn_value v;
    if (tk && cfg_set(s, "restart-strategy.type") && scn_config_get(s, tk->name, &v) == 0)
        mc_restart_config_set(rc, tk->name, tk->choices[v.u], err, errlen);
    else
        mc_restart_config_defaults(rc, type);
    if (tk && cfg_set(s, "restart-strategy.type"))
        mc_restart_config_defaults(rc, rc->type);
    for (size_t i = 0; i < s->n_config; i++) {
        const struct scn_config_key *k = s->config[i].key;
        if (strncmp(k->name, "restart-strategy.", 17) != 0 || strcmp(k->name, tk->name) == 0)
            continue;
        char val[64];
        if (k->type == SCN_CFG_DURATION)
            snprintf(val, sizeof(val), "%llums",
                     (unsigned long long)(s->config[i].value.u / RT_NS_PER_MS));
        else if (k->type == SCN_CFG_DOUBLE)
            snprintf(val, sizeof(val), "%g", s->config[i].value.d);
        else
            snprintf(val, sizeof(val), "%llu", (unsigned long long)s->config[i].value.u);
        int rc2 = mc_restart_config_set(rc, k->name, val, err, errlen);
        if (rc2 < 0)
            return rc2;
    }
    return mc_restart_config_validate(rc, err, errlen);
}

int run__cluster_config(const struct scn_scenario *s, struct mc_cluster_config *c, char *err,
                        size_t errlen)
{
    mc_cluster_config_defaults(c);
    c->taskmanagers = s->cluster.taskmanagers;
    c->slots = (uint32_t)cfg_u(s, "taskmanager.numberOfTaskSlots", s->cluster.slots);
    if (s->cluster.slots)
        c->slots = s->cluster.slots;
    c->provider = s->cluster.provider == SCN_PROVIDER_ACTIVE ? MC_PROVIDER_ACTIVE
                                                             : MC_PROVIDER_STANDALONE;
    c->launch_latency_ns = s->cluster.launch_latency_ns;
    c->quota = s->cluster.quota;
    c->tm_memory = s->cluster.tm_memory_bytes;
    c->hb_interval_ns = cfg_u(s, "heartbeat.interval", c->hb_interval_ns);
    c->hb_timeout_ns = cfg_u(s, "heartbeat.timeout", c->hb_timeout_ns);
    c->hb_rpc_failure_threshold = (uint32_t)cfg_u(s, "heartbeat.rpc-failure-threshold",
                                                  c->hb_rpc_failure_threshold);
    c->tm_idle_timeout_ns = cfg_u(s, "resourcemanager.taskmanager-timeout", c->tm_idle_timeout_ns);
    c->slot_request_timeout_ns = cfg_u(s, "slot.request.timeout", c->slot_request_timeout_ns);
    c->redundant_tms = (uint32_t)cfg_u(s, "slotmanager.redundant-taskmanager-num", 0);
    c->evenly_spread = cfg_u(s, "cluster.evenly-spread-out-slots", 0) != 0;
    c->ha = s->cluster.ha;
    c->standby_jms = s->cluster.ha ? s->cluster.jobmanagers : 0;
    union scn_value v;
    const struct scn_config_key *fk = scn_config_lookup("jobmanager.execution.failover-strategy");
    if (fk && scn_config_get(s, fk->name, &v) == 0)
        mc_failover_parse(fk->choices[v.u], &c->failover, err, errlen);
    struct eng_job_config *j = &c->job;
    j->checkpoint_interval_ns = cfg_u(s, "execution.checkpointing.interval", 0);
    j->checkpoint_timeout_ns = cfg_u(s, "execution.checkpointing.timeout", j->checkpoint_timeout_ns);
    j->min_pause_ns = cfg_u(s, "execution.checkpointing.min-pause", 0);
    j->max_concurrent = (uint32_t)cfg_u(s, "execution.checkpointing.max-concurrent-checkpoints", 1);
    j->tolerable_failed = (uint32_t)cfg_u(s, "execution.checkpointing.tolerable-failed-checkpoints", 0);
    j->num_retained = (uint32_t)cfg_u(s, "state.checkpoints.num-retained", 1);
    j->incremental = cfg_u(s, "execution.checkpointing.incremental", 0) != 0;
    j->inline_bytes = cfg_u(s, "state.storage.fs.memory-threshold", 20 << 10);
    j->local_recovery = cfg_u(s, "state.backend.local-recovery", 0) ||
                        cfg_u(s, "execution.state-recovery.from-local", 0);
    union scn_value bv;
    if (scn_config_get(s, "state.backend.type", &bv) == 0 && bv.u == 1) {    /* rocksdb */
        j->restore_part_bytes =
            cfg_u(s, "state.backend.rocksdb.compaction.level.target-file-size-base", 64 << 20);
        j->restore_threads =
            (uint32_t)cfg_u(s, "state.backend.rocksdb.checkpoint.transfer.thread.num", 4);
    }
    return restart_from(s, &c->restart, j->checkpoint_interval_ns != 0, err, errlen);
}

void run__dfs_config(const struct scn_scenario *s, struct dfs_config *dc)
{
    const struct scn_dfs *d = &s->dfs;
    *dc = (struct dfs_config){ .bandwidth = d->bandwidth, .ops_per_s = d->ops,
                               .streams = d->streams, .base_latency_ns = d->latency_ns };
    if (d->profile == SCN_DFS_PROFILE_NONE)
        return;
    struct dfs_profile *p = &dc->profile;
    dfs_profile_defaults(p, (enum dfs_profile_kind)d->profile);
    p->write_rate = d->write_rate;
    p->read_rate = d->read_rate;
    p->conn_bandwidth = d->conn_bandwidth;
    p->latency_max_ns = d->latency_max_ns;
    p->client_link = d->client_link;
    if (d->profile != SCN_DFS_PROFILE_S3)
        return;
    p->pool = (uint32_t)cfg_u(s, "fs.s3a.connection.maximum", p->pool);
    p->retry_limit = (uint32_t)cfg_u(s, "fs.s3a.retry.throttle.limit", p->retry_limit);
    p->retry_interval_ns = cfg_u(s, "fs.s3a.retry.throttle.interval", p->retry_interval_ns);
    if (cfg_set(s, "s3.entropy.key"))
        p->entropy_length = (uint32_t)cfg_u(s, "s3.entropy.length", 4);
}

static uint64_t per_subtask(uint64_t total, uint32_t par)
{
    return total ? (total + par - 1) / par : 0;
}

static bool keyed(const struct scn_op *op)
{
    enum scn_op_kind k = op->kind;
    if (k == SCN_OP_USER)
        return op->user->kind == ENG_OP_USER_KEYED;
    return k == SCN_OP_COUNT || k == SCN_OP_SUM || k == SCN_OP_REDUCE || k == SCN_OP_WINDOW;
}

struct eng_jobgraph *run__job_graph(const struct scn_job *sj)
{
    struct eng_jobgraph *g = eng_jobgraph_new(sj->name);
    uint32_t par = sj->parallelism ? sj->parallelism : 1;
    uint64_t keys = 1000;
    int prev = -1;
    enum eng_edge_kind next_edge = ENG_EDGE_FORWARD;
    bool state_placed = false, after_keyed = false;
    for (size_t i = 0; i < sj->n_ops; i++) {
        const struct scn_op *op = &sj->ops[i];
        struct eng_op_args a = { 0 };
        enum eng_op_kind kind;
        char name[64];
        switch (op->kind) {
        case SCN_OP_SEQUENCE:
        case SCN_OP_RANDOM:
            kind = op->kind == SCN_OP_SEQUENCE ? ENG_OP_SOURCE_SEQUENCE : ENG_OP_SOURCE_RANDOM;
            a.records = per_subtask(op->records, par);
            a.keys = keys = op->keys ? op->keys : 1000;
            a.rate = per_subtask(op->rate, par);
            a.seed = op->seed;
            break;
        case SCN_OP_KEYBY:
            next_edge = ENG_EDGE_HASH;
            continue;
        case SCN_OP_REBALANCE:
            next_edge = ENG_EDGE_REBALANCE;
            continue;
        case SCN_OP_MAP: kind = ENG_OP_MAP; break;
        case SCN_OP_FILTER: kind = ENG_OP_FILTER; a.probability = 0.5; a.seed = 1; break;
        case SCN_OP_FLATMAP: kind = ENG_OP_FLATMAP; a.fanout = 2; break;
        case SCN_OP_COUNT: kind = ENG_OP_COUNT; break;
        case SCN_OP_SUM: kind = ENG_OP_SUM; break;
        case SCN_OP_REDUCE: kind = ENG_OP_REDUCE; break;
        case SCN_OP_WINDOW: kind = ENG_OP_WINDOW; a.window_ms = op->size_ns / RT_NS_PER_MS; break;
        case SCN_OP_SINK: kind = ENG_OP_SINK; break;
        case SCN_OP_FAIL: kind = ENG_OP_FAIL; a.at_record = op->at; a.probability = op->probability; break;
        case SCN_OP_STALL: kind = ENG_OP_STALL; a.stall_ms = op->for_ns / RT_NS_PER_MS; a.at_record = 1; break;
        case SCN_OP_BURN: kind = ENG_OP_BURN; a.ns_per_record = op->per_record_ns; break;
        case SCN_OP_ALLOC: kind = ENG_OP_ALLOC; a.bytes_per_key = op->per_key_bytes; break;
        case SCN_OP_USER: kind = op->user->kind; a.user = op->user; a.params = op->params; break;
        default: continue;
        }
        /* The job's declared state lives just before the sink, keyed: in
         * the COUNT, SUM or REDUCE there when there is one (op_keyed.c),
         * else in an ALLOC of its own. */
        if (sj->state_bytes && !state_placed && i + 1 < sj->n_ops &&
            sj->ops[i + 1].kind == SCN_OP_SINK &&
            (kind == ENG_OP_COUNT || kind == ENG_OP_SUM || kind == ENG_OP_REDUCE)) {
            a.bytes_per_key = sj->state_bytes / (keys ? keys : 1);
            a.declared = true;
            state_placed = true;
        }
        if (kind == ENG_OP_SINK && sj->state_bytes && !state_placed) {
            struct eng_op_args sa = { .bytes_per_key = sj->state_bytes / (keys ? keys : 1),
                                      .declared = true };
            int v = eng_jobgraph_add_vertex(g, "state", ENG_OP_ALLOC, &sa, par, sj->max_parallelism);
            /* Already partitioned by key after a keyed operator; else partition. */
            eng_jobgraph_add_edge(g, (uint32_t)prev, (uint32_t)v,
                                  after_keyed ? ENG_EDGE_FORWARD : ENG_EDGE_HASH);
            prev = v;
            next_edge = ENG_EDGE_FORWARD;
            state_placed = true;
        }
        snprintf(name, sizeof(name), "%s%zu", a.user ? a.user->name : eng_op_kind_name(kind), i);
        int v = eng_jobgraph_add_vertex(g, name, kind, &a, par, sj->max_parallelism);
        if (prev >= 0)
            eng_jobgraph_add_edge(g, (uint32_t)prev, (uint32_t)v,
                                  keyed(op) ? ENG_EDGE_HASH : next_edge);
        after_keyed |= keyed(op);
        next_edge = ENG_EDGE_FORWARD;
        prev = v;
    }
    return g;
}

/* Flink keys the language accepts but this runner does not model yet: a
 * setting of one has no effect, and the run says so rather than pretend. */
static const char *const unmodelled[] = {
    "execution.checkpointing.mode", "pekko.ask.timeout", "parallelism.default",
    NULL,
};

size_t run__unmodelled(const struct scn_scenario *s, const char **out, size_t cap)
{
    size_t n = 0;
    /* Checkpoints write the job's real state; a separate figure is not modelled. */
    for (size_t j = 0; j < s->n_jobs; j++)
        if (s->jobs[j].checkpoint_bytes != s->jobs[j].state_bytes && n < cap) {
            out[n++] = "checkpoint-bytes";
            break;
        }
    for (size_t i = 0; i < s->n_config; i++)
        for (size_t k = 0; unmodelled[k]; k++)
            if (strcmp(s->config[i].key->name, unmodelled[k]) == 0 && n < cap)
                out[n++] = unmodelled[k];
    return n;
}

int scn_mode_check(const struct scn_scenario *s, enum scn_mode m, char *err, size_t errlen)
{
    if (m != SCN_MODE_PER_JOB || s->cluster.target != SCN_DEPLOY_KUBERNETES)
        return 0;
    snprintf(err, errlen, "%s:%u:%u: error: per-job mode does not exist on kubernetes: Flink "
             "runs per-job clusters on YARN only (deprecated in 1.15, removed in 2.0); use "
             "session or application mode, or target=yarn", s->name,
             s->cluster.target_pos.line, s->cluster.target_pos.col);
    return -EINVAL;
}

const char *scn_mode_name(enum scn_mode m)
{
    switch (m) {
    case SCN_MODE_SESSION: return "session";
    case SCN_MODE_PER_JOB: return "per-job";
    case SCN_MODE_APPLICATION: return "application";
    default: return "any";
    }
}

struct eng_jobgraph *scn_job_graph(const struct scn_job *sj)
{
    return run__job_graph(sj);
}
