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
 *
 * JobManager changes.  Once registered it watches, every heartbeat interval,
 * the resource manager it serves: when the cluster names another one (a new
 * leader took over) or no heartbeat came for heartbeat.timeout, it registers
 * again, with whichever resource manager the cluster names then.
 *
 * Fencing the tasks of a dead JobManager.  It remembers which job runner
 * deployed each of its tasks.  A task whose runner is gone (its JobManager
 * node died) or runs on a JobManager that no longer leads is canceled at the
 * next watch and before any deployment; a deployment of a job by another
 * runner cancels the job's older tasks here first.  That is Flink's
 * behaviour (a TaskExecutor that loses its JobMaster fails that job's
 * tasks), and it is what keeps a recovered sink's transactions its own: the
 * old tasks stop long before a new leader deploys (it takes over only after
 * the lease timeout, and the watch runs every heartbeat interval).
 */
#include <errno.h>
#include <stdio.h>

#include "cluster/cluster_internal.h"

#define REGISTER_RETRY_NS (10 * RT_NS_PER_MS)   /* until the resource manager answers */

struct te_task {
    struct eng_job *job;
    uint32_t attempt;
    rt_addr runner, task;
};

struct te {
    struct rt_actor *self;
    struct mc_cluster *c;
    uint32_t tm;
    bool registered;
    rt_addr rm;                 /* registered with (or asking) */
    uint64_t last_hb_ns;        /* last heartbeat from rm */
    struct te_task *tasks;      /* deployed here and maybe still running */
    uint32_t ntasks, cap;
};

static uint64_t te_now(struct te *t) { return rt_now(t->c->w); }

static bool job_ended(const struct eng_job *j)
{
    enum eng_job_state s = eng_job_state(j);
    return s == ENG_JOB_FINISHED || s == ENG_JOB_FAILED || s == ENG_JOB_CANCELED;
}

/* Cancels the tasks whose runner is gone or no longer leads, and those of
 * `job` deployed by another runner than `runner` (job NULL: none); forgets
 * them, the tasks of jobs that ended, and those of job's attempts before
 * `attempt` (their runner cancels them itself). */
static void fence(struct te *t, const struct eng_job *job, rt_addr runner, uint32_t attempt)
{
    struct rt_node *leader = mc_cluster_leader(t->c);
    uint32_t lead = t->c->cfg.ha && leader ? rt_node_id(leader) : 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->ntasks; i++) {
        struct te_task *e = &t->tasks[i];
        bool stale = !rt_addr_alive(t->c->w, e->runner) ||
                     (lead && RT_ADDR_NODE(e->runner) != lead) ||
                     (e->job == job && e->runner != runner);
        if (stale) {
            rt_trace(t->c->w, rt_actor_node(t->self), "task_fenced",
                     "\"job\":%u,\"attempt\":%u", e->job->id, e->attempt);
            rt_send(t->self, e->task, ENG_MSG_CANCEL, &e->attempt, sizeof(e->attempt));
        } else if (!job_ended(e->job) &&
                   !(e->job == job && e->runner == runner && e->attempt < attempt)) {
            t->tasks[k++] = *e;
        }
    }
    t->ntasks = k;
}

static void try_register(struct te *t)
{
    rt_addr rm = atomic_load(&t->c->rm);
    struct mc_reg r = { t->tm, t->c->cfg.slots };
    t->rm = rm;
    if (rm)
        rt_send(t->self, rm, MC_MSG_TM_REGISTER, &r, sizeof(r));
    rt_timer_start(t->self, REGISTER_RETRY_NS, 0);
}

/* Registered: is the resource manager still the one the cluster names, and
 * alive by its heartbeats? */
static void watch(struct te *t)
{
    fence(t, NULL, 0, 0);
    rt_addr rm = atomic_load(&t->c->rm);
    if (rm != t->rm || te_now(t) - t->last_hb_ns >= t->c->cfg.hb_timeout_ns) {
        rt_trace(t->c->w, rt_actor_node(t->self), "tm_reregister",
                 "\"cluster\":\"%s\",\"tm\":%u,\"reason\":\"%s\"", t->c->name, t->tm,
                 rm != t->rm ? "new resource manager" : "heartbeat timeout");
        t->registered = false;
        try_register(t);
        return;
    }
    rt_timer_start(t->self, t->c->cfg.hb_interval_ns, 0);
}

static void track(struct te *t, const struct eng_deploy *d, struct rt_actor *task)
{
    if (t->ntasks == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->tasks = rt_xrealloc(t->tasks, t->cap * sizeof(*t->tasks));
    }
    t->tasks[t->ntasks++] = (struct te_task){ d->job, d->attempt, d->runner, rt_actor_addr(task) };
}

static void te_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct te *t = rt_actor_state(a);
    switch (m->type) {
    case RT_MSG_TIMER:
        if (t->registered)
            watch(t);
        else
            try_register(t);
        break;
    case MC_MSG_TM_REGISTERED:
        if (t->registered || m->src != t->rm)
            break;      /* a late answer, or from a resource manager we left */
        t->registered = true;
        t->last_hb_ns = te_now(t);
        fence(t, NULL, 0, 0);
        /* The retry timer still runs: it turns into the watch. */
        break;
    case MC_MSG_HB_REQ: {
        struct mc_hb hb = { t->tm, 0 };
        if (m->len == sizeof(uint64_t))
            hb.seq = *(const uint64_t *)m->data;
        if (m->src == t->rm)
            t->last_hb_ns = te_now(t);
        rt_send(a, m->src, MC_MSG_HB_REPLY, &hb, sizeof(hb));
        break;
    }
    case ENG_MSG_DEPLOY:
        if (m->len == sizeof(struct eng_deploy)) {
            const struct eng_deploy *d = m->data;
            fence(t, d->job, d->runner, d->attempt);
            track(t, d, eng_task_spawn(rt_actor_node(a), d));
        }
        break;
    }
}

static void te_stop(struct rt_actor *a)
{
    struct te *t = rt_actor_state(a);
    rt_addr rm = t->rm ? t->rm : atomic_load(&t->c->rm);
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
