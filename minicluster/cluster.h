/*
 * cluster.h - a Flink-style cluster around the engine: a JobManager node
 * (dispatcher, resource manager, one job master per job) and TaskManager
 * nodes (one thread each in the real world), in one world with a shared DFS.
 *
 * Nodes and actors:
 *   <name>-jm     rm          TaskManager registration, slots, heartbeats,
 *                             the provider (standalone or active)
 *                 dispatcher  accepts jobs, job result store
 *                 jobmaster   per job: slots, restart strategy, failover;
 *                             drives the engine's job runner (engine/jobrun.h)
 *                 blobserver  job graphs and artifacts (cluster/blob.h)
 *   <name>-tmN    taskexecutor registration, heartbeat replies, slots, deploys
 *                             tasks (eng_task_spawn) once the job's artifacts
 *                             are downloaded (its BlobCache)
 *
 * High availability (cfg.ha, cluster/ha.c): 1 + standby_jms JobManager nodes
 * (<name>-jm, <name>-jm1, ...), each with an elector actor.  The leader holds
 * a lease on the DFS and alone runs the resource manager and job masters; it
 * keeps the HA stores under <name>/ha/ (job graphs, latest checkpoint ids,
 * job results).  When its lease goes stale a standby takes over: it spawns a
 * resource manager (TaskManagers re-register with it) and recovers every job
 * without a result from its latest stored checkpoint.  Without HA a crashed
 * JobManager takes its jobs with it: mc_cluster_fail_orphaned marks them
 * FAILED.
 *
 * Failure detection, as in Flink: the resource manager sends a heartbeat to
 * every TaskManager each heartbeat.interval; a TaskManager that has not
 * answered for heartbeat.timeout, or whose heartbeat RPCs failed
 * heartbeat.rpc-failure-threshold times in a row (its process is gone but
 * its host answers), is lost; every job with a slot there is failed and
 * restarted by its strategy.  A TaskManager that stops gracefully says so
 * and is released at once.
 *
 * Threads: a struct mc_cluster and struct mc_job live in process memory and
 * are written by the cluster's actors; their atomics are what other threads
 * (the scenario runner, tests) read.
 */
#ifndef MC_CLUSTER_H
#define MC_CLUSTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "minicluster/failover.h"
#include "minicluster/restart.h"
#include "engine/job.h"
#include "runtime/rt.h"

struct dfs;

#define MC_MAX_TMS 64
#define MC_MAX_JMS 8        /* JobManager nodes: the leader and its standbys */
#define MC_MAX_JOBS 16384   /* jobs submitted to one cluster (a session runs many) */

enum mc_provider {
    MC_PROVIDER_STANDALONE,     /* fixed TaskManagers; a dead one stays dead */
    MC_PROVIDER_ACTIVE,         /* containers on demand: launch latency, quota */
};

struct mc_cluster_config {
    uint32_t taskmanagers;              /* standalone: started; active: started up front */
    uint32_t slots;                     /* taskmanager.numberOfTaskSlots */
    enum mc_provider provider;
    uint64_t launch_latency_ns;         /* active: container start */
    uint32_t quota;                     /* active: most TaskManagers at once (0: none) */
    uint64_t tm_idle_timeout_ns;        /* resourcemanager.taskmanager-timeout (30 s) */
    size_t tm_memory;                   /* memory limit per TaskManager (0: none) */
    bool evenly_spread;                 /* cluster.evenly-spread-out-slots */
    uint64_t hb_interval_ns;            /* heartbeat.interval (10 s) */
    uint64_t hb_timeout_ns;             /* heartbeat.timeout (50 s) */
    uint32_t hb_rpc_failure_threshold;  /* heartbeat.rpc-failure-threshold (2) */
    uint64_t slot_request_timeout_ns;   /* slot.request.timeout (5 min); 0: none */
    uint32_t redundant_tms;             /* active: slotmanager.redundant-taskmanager-num (0) */
    bool launch_initial;                /* active: the first TaskManagers also take the
                                           launch latency (a cluster made for a job on
                                           YARN or Kubernetes asks for them on demand) */
    struct mc_restart_config restart;
    enum mc_failover failover;          /* jobmanager.execution.failover-strategy */
    struct eng_job_config job;          /* checkpointing */
    bool ha;                            /* high-availability.type: leader election + stores */
    uint32_t standby_jms;               /* ha: JobManagers besides the first (< MC_MAX_JMS) */
};

/* Flink's defaults for everything (restart strategy per Flink's rule). */
void mc_cluster_config_defaults(struct mc_cluster_config *c);

enum { MC_TM_DOWN, MC_TM_STARTING, MC_TM_REGISTERED };

struct mc_tm {
    struct mc_cluster *cluster;         /* back-pointer, so a node call needs no allocation */
    uint32_t index;
    struct rt_node *node;
    _Atomic rt_addr te;                 /* its task executor, once spawned */
    atomic_int state;                   /* MC_TM_* as the resource manager sees it */
    _Atomic rt_addr rm;                 /* the resource manager it registered with last */
    /* Published by the resource manager for outside readers (REST, metrics). */
    atomic_uint free_slots;             /* its slots no job holds */
    atomic_uint_fast64_t last_heartbeat_ns;     /* world time of its last heartbeat reply */
    uint64_t start_delay_ns;            /* its process starts this long after the node */
};

/* A JobManager node (with HA, one of several). */
struct mc_jm {
    struct mc_cluster *cluster;         /* back-pointer, so a node call needs no allocation */
    uint32_t index;                     /* 0: <name>-jm, k: <name>-jmk */
    struct rt_node *node;
    atomic_uint_fast64_t blob_bytes_in;     /* its blob server: bytes stored (puts) */
    atomic_uint_fast64_t blob_bytes_out;    /* and served (gets) */
};

struct mc_cluster {
    char name[48];
    struct rt_world *w;
    struct dfs *dfs;
    struct mc_cluster_config cfg;
    struct rt_node *jm;                 /* the first JobManager (the only one without HA) */
    struct mc_jm jms[MC_MAX_JMS];       /* every JobManager node, jms[0].node == jm */
    uint32_t njms;
    _Atomic(struct rt_node *) leader;   /* the JobManager leading now (see mc_cluster_leader) */
    atomic_uint leader_term;            /* ha: the leader's lease term (1 for the first) */
    atomic_uint takeovers;              /* ha: standbys that became leader */
    atomic_uint_fast64_t leader_since_ns;       /* world time the leader took over */
    atomic_uint jobs_recovered;         /* ha: jobs a new leader recovered */
    _Atomic(struct mc_job *) jobs[MC_MAX_JOBS]; /* submitted jobs, in order (what an HA
                                                   job graph store entry stands for) */
    atomic_uint njobs;
    _Atomic rt_addr rm, dispatcher;
    _Atomic rt_addr blob;               /* the leader's blob server (0: not up yet) */
    struct mc_tm tms[MC_MAX_TMS];
    atomic_uint ntms;                   /* TaskManagers ever created */
    atomic_uint registered;             /* registered now */
    atomic_uint tms_lost;               /* declared lost by heartbeat or RPC failures */
    atomic_uint slot_timeouts;          /* slot requests failed by slot.request.timeout */
    atomic_uint_fast64_t created_ns, ready_ns;  /* world time: creation, all registered */
    atomic_uint_fast64_t messages;      /* handled by the JobManager's actors */
};

/*
 * Creates the cluster's nodes in w, starts them and spawns their actors.
 * Returns at once (the TaskManagers register asynchronously; wait with
 * mc_cluster_ready).  0, or -ENOSPC when the world has no room for the nodes.
 * Not from a handler.
 */
int mc_cluster_new(struct rt_world *w, struct dfs *dfs, const char *name,
                   const struct mc_cluster_config *cfg, struct mc_cluster **out);
/* All configured TaskManagers are registered (any thread). */
bool mc_cluster_ready(const struct mc_cluster *c);
/* Stops every node of the cluster gracefully (not from a handler).  Returns once down. */
void mc_cluster_stop(struct mc_cluster *c);
/* Frees the cluster's memory; after its nodes are down or the world is freed. */
void mc_cluster_free(struct mc_cluster *c);

/* The JobManager node leading now (the first one without HA).  With HA it
 * may be down for a while after a crash, until a standby takes over.  Any
 * thread. */
struct rt_node *mc_cluster_leader(const struct mc_cluster *c);

/* Without HA, a JobManager that crashed takes its jobs with it: true when
 * the JobManager node is down and some job of the cluster has not ended.
 * Always false with HA (a standby recovers them).  Any thread; cheap enough
 * for an rt_world_wait predicate. */
bool mc_cluster_jobs_orphaned(const struct mc_cluster *c);
/* Marks those jobs FAILED ("JobManager lost and high availability is off:
 * the job cannot be recovered"), as a Flink client sees them; returns how
 * many.  Their runners died with the node, so the caller is the jobs' only
 * writer.  From the thread driving the world, not from a handler. */
int mc_cluster_fail_orphaned(struct mc_cluster *c);

/* A submitted job. */
struct mc_job {
    struct eng_job *ej;                 /* the engine's view (state, counters, events) */
    struct mc_cluster *cluster;
    char app[48];                       /* application it belongs to */
    atomic_int slot_tm[64];             /* TaskManager index of slot i (-1: none) */
    atomic_uint nslots;
    atomic_uint_fast64_t submitted_ns, running_ns, finished_ns;
    uint64_t artifact_bytes;            /* in the blob server (0: none): each TaskManager
                                           downloads them before its first task of the job */
    atomic_uint_fast64_t blob_bytes_out;        /* its blobs the blob server served */
    atomic_bool result_stored;          /* HA on: its end is in the job result store */
    _Atomic rt_addr runner;             /* its engine runner (0: none yet), published by
                                           the job master so that outside readers can ask
                                           it to cancel (REST PATCH ?mode=cancel) */
};

/*
 * Submits a job graph (ownership passes to the job) with id job_id.  The job
 * goes to the dispatcher, whose job master asks for slots and deploys it.
 * Returns 0 and *out (owned by the caller: mc_job_free once the world is
 * stopped), or -EINVAL with err for a graph that does not validate.
 * Any thread outside the cluster's nodes.
 */
int mc_cluster_submit(struct mc_cluster *c, struct eng_jobgraph *g, uint32_t job_id,
                      const char *app, struct mc_job **out, char *err, size_t errlen);
/* As mc_cluster_submit, for a job whose client has put artifact_bytes of
 * artifacts into the cluster's blob server under job_id (mc_upload_start,
 * cluster/client.h): every TaskManager downloads them before the first task
 * of the job runs there.  artifact_bytes 0 is mc_cluster_submit. */
int mc_cluster_submit_artifacts(struct mc_cluster *c, struct eng_jobgraph *g, uint32_t job_id,
                                const char *app, uint64_t artifact_bytes, struct mc_job **out,
                                char *err, size_t errlen);
void mc_job_free(struct mc_job *j);

/* The TaskManager index hosting subtask i of the job (slot sharing: every
 * vertex's subtask i is in slot i), or -1. */
int mc_job_tm_of(const struct mc_job *j, uint32_t subtask);

/* ---- faults on the cluster (any thread outside the cluster's nodes) --------- */

/* Silent kill (the host vanishes: found by heartbeat timeout), crash (the
 * process dies: calls to it fail), graceful stop, restart of a down one. */
void mc_tm_kill(struct mc_cluster *c, uint32_t tm);
void mc_tm_crash(struct mc_cluster *c, uint32_t tm);
void mc_tm_stop(struct mc_cluster *c, uint32_t tm);
int mc_tm_restart(struct mc_cluster *c, uint32_t tm);
/* Adds a TaskManager; returns its index or -ENOSPC. */
int mc_tm_add(struct mc_cluster *c);

#endif
