/*
 * tm.c - the task executor, the one actor a TaskManager node starts with.
 *
 * It registers with the resource manager (retrying until acknowledged, as a
 * TaskManager does while the JobManager is not up yet), answers heartbeats,
 * and turns deployments into task actors on its node.  The node's memory
 * limit (the TaskManager's memory) is enforced by the runtime: a task that
 * allocates past it takes the whole TaskManager down, every task of every job
 * on it, as an OOM kill would.  On a graceful stop it tells the resource
 * manager it is leaving, so that it is released at once.
 */
#include <errno.h>
#include <stdio.h>

#include "cluster/cluster_internal.h"

#define REGISTER_RETRY_NS (10 * RT_NS_PER_MS)   /* until the resource manager answers */

struct te {
    struct rt_actor *self;
    struct mc_cluster *c;
    uint32_t tm;
    bool registered;
};

static void try_register(struct te *t)
{
    rt_addr rm = atomic_load(&t->c->rm);
    struct mc_reg r = { t->tm, t->c->cfg.slots };
    if (rm)
        rt_send(t->self, rm, MC_MSG_TM_REGISTER, &r, sizeof(r));
    rt_timer_start(t->self, REGISTER_RETRY_NS, 0);
}

static void te_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct te *t = rt_actor_state(a);
    switch (m->type) {
    case RT_MSG_TIMER:
        if (!t->registered)
            try_register(t);
        break;
    case MC_MSG_TM_REGISTERED:
        t->registered = true;
        break;
    case MC_MSG_HB_REQ: {
        struct mc_hb hb = { t->tm, 0 };
        if (m->len == sizeof(uint64_t))
            hb.seq = *(const uint64_t *)m->data;
        rt_send(a, m->src, MC_MSG_HB_REPLY, &hb, sizeof(hb));
        break;
    }
    case ENG_MSG_DEPLOY:
        if (m->len == sizeof(struct eng_deploy))
            eng_task_spawn(rt_actor_node(a), m->data);
        break;
    }
}

static void te_stop(struct rt_actor *a)
{
    struct te *t = rt_actor_state(a);
    rt_addr rm = atomic_load(&t->c->rm);
    if (rm)
        rt_send(a, rm, MC_MSG_TM_LEAVING, &t->tm, sizeof(t->tm));
}

static const struct rt_actor_ops te_ops = { "taskexecutor", te_msg, te_stop };

void mc__te_spawn(struct rt_node *n, void *arg)
{
    struct mc_tm *tm = arg;
    struct te *t = rt_xcalloc(1, sizeof(*t));
    t->c = tm->cluster;
    t->tm = tm->index;
    t->self = rt_actor_spawn(n, &te_ops, t);
    atomic_store(&tm->te, rt_actor_addr(t->self));
    try_register(t);
}
