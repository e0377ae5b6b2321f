/*
 * cluster_internal.h - messages and helpers shared by the cluster's files
 * (cluster.c, jm.c, tm.c, blob.c).  Nothing outside cluster/ includes it.
 */
#ifndef MC_CLUSTER_INTERNAL_H
#define MC_CLUSTER_INTERNAL_H

#include "minicluster/cluster.h"

enum {
    MC_MSG_TM_REGISTER = RT_MSG_USER + 200, /* te -> rm: struct mc_reg */
    MC_MSG_TM_REGISTERED,                   /* rm -> te */
    MC_MSG_HB_REQ,                          /* rm -> te: uint64_t seq */
    MC_MSG_HB_REPLY,                        /* te -> rm: struct mc_hb */
    MC_MSG_TM_LEAVING,                      /* te -> rm: uint32_t tm (graceful stop) */
    MC_MSG_SLOT_REQUEST,                    /* jobmaster -> rm: struct mc_slot_req */
    MC_MSG_SLOT_OFFER,                      /* rm -> jobmaster: struct mc_slot_offer */
    MC_MSG_SLOT_RELEASE,                    /* jobmaster -> rm: struct mc_slot_release */
    MC_MSG_TM_LOST,                         /* rm -> jobmaster: struct mc_tm_lost */
    MC_MSG_LAUNCHED,                        /* provider -> rm: uint32_t tm (container up) */
    MC_MSG_RM_UP,                           /* rm -> te: a resource manager is up, register */
};

struct mc_reg {
    uint32_t tm;
    uint32_t slots;
};

struct mc_hb {
    uint32_t tm;
    uint64_t seq;
};

struct mc_slot_req {
    uint32_t job;
    uint32_t count;             /* slots wanted now */
    uint64_t req;               /* echoed in the offer */
};

#define MC_OFFER_MAX 64
struct mc_slot_offer {
    uint64_t req;
    uint32_t n;
    struct {
        uint32_t tm;
        rt_addr te;
    } slot[MC_OFFER_MAX];
};

struct mc_slot_release {
    uint32_t job;
    int32_t tm;                 /* -1: every slot of the job */
    uint32_t count;             /* at most this many of them; 0: all */
};

struct mc_tm_lost {
    uint32_t tm;
    char reason[160];
};

/* jm.c: the JobManager's actors, spawned on the JobManager node. */
void mc__jm_spawn(struct rt_node *jm, void *cluster);
/* Submits on the JobManager node (called through rt_node_call).  With HA the
 * job master stores the job graph entry first, then starts the job. */
void mc__jm_submit(struct rt_node *jm, void *job);
/* A new leader recovers job (its entry is in the job graph store, no result):
 * a job master whose runner restores checkpoint_id (0: none).  On the
 * leader's node, from one of its handlers. */
void mc__jm_recover(struct rt_node *jm, struct mc_job *job, uint64_t checkpoint_id);

/* ha.c: the elector of a JobManager node, spawned on it through
 * rt_node_call; arg is its struct mc_jm (cluster memory: nothing leaks if
 * the node dies before the call).  Paths of the HA stores:
 * "<cluster>/ha/<store>/<job id>". */
void mc__ha_spawn(struct rt_node *n, void *jm);
void mc__ha_path(const struct mc_cluster *c, const char *store, uint32_t job, char *buf,
                 size_t len);

/* blob.c: the blob server, spawned on the leading JobManager node with its
 * resource manager (mc__jm_spawn); arg is the cluster.  It publishes its
 * address in c->blob. */
void mc__blob_spawn(struct rt_node *jm, void *cluster);

/* cluster.c: the submitted job with this id, or NULL.  Any thread. */
struct mc_job *mc__cluster_job(struct mc_cluster *c, uint32_t id);

/* tm.c: the task executor, spawned on a TaskManager node; arg is its struct
 * mc_tm (cluster memory: nothing to free if the node dies before the call). */
void mc__te_spawn(struct rt_node *tm, void *arg);

/* cluster.c: a new TaskManager slot in the cluster, its node created but not
 * started (returns the index or -ENOSPC); start a TaskManager's node and its
 * task executor.  Any thread, including the resource manager's handlers. */
int mc__tm_reserve(struct mc_cluster *c);
int mc__tm_launch(struct mc_cluster *c, uint32_t tm);

#endif
