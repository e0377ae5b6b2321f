/*
 * jm.c - the JobManager's actors: resource manager, dispatcher, job masters.
 *
 * All of them live on the JobManager node and run on its thread, so the job
 * master's callbacks from the engine's job runner (place, prepare,
 * on_failure) read its slot table directly.
 *
 * Slots and slot sharing: a job master asks for as many slots as its widest
 * vertex has subtasks; subtask i of every vertex runs in slot i (Flink's
 * default slot sharing group).  The resource manager picks slots spread over
 * TaskManagers (cluster.evenly-spread-out-slots) or packed, queues requests
 * it cannot serve, and with the active provider launches TaskManagers for
 * them (after the launch latency, within the quota), releasing idle ones
 * after resourcemanager.taskmanager-timeout.
 *
 * Failure: when the resource manager declares a TaskManager lost (heartbeat
 * timeout or RPC failures) or it leaves, every job master with a slot there
 * hears MC_MSG_TM_LOST and tells the runner that the tasks in those slots
 * failed; the runner restarts what the failover strategy
 * (jobmanager.execution.failover-strategy, cluster/failover.h) says they
 * take with them, and before the restart (the runner's prepare) the job
 * master asks for replacement slots - only for the slots the restarted
 * tasks use, so that a region restart never waits for the rest.
 *
 * High availability (cluster/ha.c has the election): a job master of an HA
 * cluster keeps the leader's stores on the DFS - it writes the job graph
 * entry <cluster>/ha/jobs/<id> before the job starts, the latest completed
 * checkpoint id to <cluster>/ha/checkpoints/<id> (write to a temporary name,
 * then rename: a reader never sees half a number) before the runner may
 * announce that checkpoint, and the final state to <cluster>/ha/results/<id>.
 * Pointer writes go one at a time, newest id next, so the stored id only
 * grows.  A failed write is retried every heartbeat interval.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "minicluster/cluster_internal.h"
#include "engine/jobrun.h"
#include "runtime/dfs.h"

enum { TAG_HEARTBEAT = 1, TAG_LAUNCH_BASE = 100 };

/* ---- resource manager ------------------------------------------------------- */

struct rm_tm {
    rt_addr te;
    uint64_t last_reply_ns;
    uint32_t rpc_failures;
    uint64_t idle_since_ns;
    uint32_t nslots;
    uint32_t slot_job[MC_OFFER_MAX];    /* job id holding slot s, 0: free */
    rt_addr slot_jm[MC_OFFER_MAX];      /* its job master */
};

struct rm_req {
    rt_addr jm;
    uint32_t job, count;
    uint64_t req;
};

struct rm {
    struct rt_actor *self;
    struct mc_cluster *c;
    struct rm_tm tm[MC_MAX_TMS];
    struct rm_req *queue;               /* pending slot requests, FIFO; grows */
    uint32_t nqueue, cap_queue, launching;
    uint64_t hb_seq;
};

static uint64_t rm_now(struct rm *r) { return rt_now(r->c->w); }

static uint32_t free_slots(const struct rm_tm *t)
{
    uint32_t n = 0;
    for (uint32_t s = 0; s < t->nslots; s++)
        n += t->slot_job[s] == 0;
    return n;
}

static bool tm_registered(struct rm *r, uint32_t i)
{
    return atomic_load(&r->c->tms[i].state) == MC_TM_REGISTERED;
}

/* Picks `count` free slots by the placement policy; false if there are not enough. */
static bool rm_allocate(struct rm *r, const struct rm_req *q)
{
    struct mc_cluster *c = r->c;
    uint32_t ntms = atomic_load(&c->ntms), avail = 0;
    for (uint32_t i = 0; i < ntms; i++)
        if (tm_registered(r, i))
            avail += free_slots(&r->tm[i]);
    if (avail < q->count || q->count > MC_OFFER_MAX)
        return false;
    struct mc_slot_offer off = { .req = q->req, .n = q->count };
    for (uint32_t k = 0; k < q->count; k++) {
        int best = -1;
        for (uint32_t i = 0; i < ntms; i++) {
            if (!tm_registered(r, i) || free_slots(&r->tm[i]) == 0)
                continue;
            if (best < 0)
                best = (int)i;
            else if (c->cfg.evenly_spread && free_slots(&r->tm[i]) > free_slots(&r->tm[best]))
                best = (int)i;
            if (!c->cfg.evenly_spread)
                break;  /* packed: the first TaskManager with room */
        }
        struct rm_tm *t = &r->tm[best];
        for (uint32_t s = 0; s < t->nslots; s++)
            if (!t->slot_job[s]) {
                t->slot_job[s] = q->job;
                t->slot_jm[s] = q->jm;
                break;
            }
        off.slot[k].tm = (uint32_t)best;
        off.slot[k].te = t->te;
    }
    rt_send(r->self, q->jm, MC_MSG_SLOT_OFFER, &off,
            (uint32_t)(offsetof(struct mc_slot_offer, slot) + q->count * sizeof(off.slot[0])));
    return true;
}

/* Active provider: launch enough TaskManagers for the queued requests (those
 * already launching count), within the quota - and, as Flink's slot manager
 * does with slotmanager.redundant-taskmanager-num, keep that many
 * TaskManagers' worth of slots free beyond them, warm for a recovery. */
static void rm_launch_if_needed(struct rm *r)
{
    struct mc_cluster *c = r->c;
    if (c->cfg.provider != MC_PROVIDER_ACTIVE || (r->nqueue == 0 && !c->cfg.redundant_tms))
        return;
    uint32_t per = c->cfg.slots ? c->cfg.slots : 1;
    uint32_t want = c->cfg.redundant_tms * per, have = 0;
    for (uint32_t k = 0; k < r->nqueue; k++)
        want += r->queue[k].count;
    uint32_t ntms = atomic_load(&c->ntms), starting = 0;
    for (uint32_t i = 0; i < ntms; i++) {
        if (tm_registered(r, i))
            have += free_slots(&r->tm[i]);
        else if (atomic_load(&c->tms[i].state) == MC_TM_STARTING &&
                 rt_node_is_up(c->tms[i].node))
            starting++;     /* up, not registered yet: its slots are coming */
    }
    /* Without counting those, a request that came before a TaskManager
     * started up front (or just launched) had registered launched another. */
    have += (r->launching + starting) * per;
    uint32_t live = atomic_load(&c->registered) + r->launching + starting;
    while (have < want && (!c->cfg.quota || live < c->cfg.quota)) {
        int idx = mc__tm_reserve(c);
        if (idx < 0)
            break;
        r->launching++;
        live++;
        have += per;
        /* The container takes the provider's launch latency to come up. */
        rt_timer_start(r->self, c->cfg.launch_latency_ns, TAG_LAUNCH_BASE + (uint64_t)idx);
    }
}

/* Free slots on registered TaskManagers. */
static uint32_t rm_free_total(struct rm *r)
{
    uint32_t n = 0, ntms = atomic_load(&r->c->ntms);
    for (uint32_t i = 0; i < ntms; i++)
        if (tm_registered(r, i))
            n += free_slots(&r->tm[i]);
    return n;
}

static void rm_serve_queue(struct rm *r)
{
    uint32_t k = 0;
    while (k < r->nqueue) {
        if (rm_allocate(r, &r->queue[k])) {
            memmove(&r->queue[k], &r->queue[k + 1], (r->nqueue - k - 1) * sizeof(r->queue[0]));
            r->nqueue--;
        } else {
            k++;
        }
    }
    rm_launch_if_needed(r);
}

static void rm_lost(struct rm *r, uint32_t i, const char *reason)
{
    struct mc_cluster *c = r->c;
    if (!tm_registered(r, i))
        return;
    atomic_store(&c->tms[i].state, MC_TM_DOWN);
    atomic_fetch_sub(&c->registered, 1);
    atomic_fetch_add(&c->tms_lost, 1);
    rt_trace(c->w, rt_actor_node(r->self), "tm_lost", "\"cluster\":\"%s\",\"tm\":%u,\"reason\":\"%s\"", c->name, i,
             reason);
    struct rm_tm *t = &r->tm[i];
    struct mc_tm_lost lost = { .tm = i };
    snprintf(lost.reason, sizeof(lost.reason), "%s", reason);
    for (uint32_t s = 0; s < t->nslots; s++) {
        if (!t->slot_job[s])
            continue;
        bool told = false;
        for (uint32_t p = 0; p < s; p++)
            told |= t->slot_jm[p] == t->slot_jm[s] && t->slot_job[p];
        if (!told)
            rt_send(r->self, t->slot_jm[s], MC_MSG_TM_LOST, &lost, sizeof(lost));
    }
    memset(t->slot_job, 0, sizeof(t->slot_job));
    rt_world_notify(c->w);
    rm_serve_queue(r);
}

static void rm_heartbeat(struct rm *r)
{
    struct mc_cluster *c = r->c;
    uint64_t now = rm_now(r);
    uint32_t ntms = atomic_load(&c->ntms);
    r->hb_seq++;
    for (uint32_t i = 0; i < ntms; i++) {
        if (!tm_registered(r, i))
            continue;
        struct rm_tm *t = &r->tm[i];
        char why[128];
        if (rt_send(r->self, t->te, MC_MSG_HB_REQ, &r->hb_seq, sizeof(r->hb_seq)) == -EHOSTDOWN) {
            if (++t->rpc_failures >= c->cfg.hb_rpc_failure_threshold) {
                snprintf(why, sizeof(why), "TaskManager %s-tm%u is unreachable: %u heartbeat RPCs failed",
                         c->name, i, t->rpc_failures);
                rm_lost(r, i, why);
                continue;
            }
        } else {
            t->rpc_failures = 0;
        }
        if (now - t->last_reply_ns > c->cfg.hb_timeout_ns) {
            snprintf(why, sizeof(why), "Heartbeat of TaskManager with id %s-tm%u timed out.", c->name, i);
            rm_lost(r, i, why);
            continue;
        }
        /* Active provider: give back TaskManagers idle for the timeout,
         * except the redundant ones. */
        if (c->cfg.provider == MC_PROVIDER_ACTIVE && free_slots(t) == t->nslots) {
            if (!t->idle_since_ns)
                t->idle_since_ns = now;
            else if (now - t->idle_since_ns >= c->cfg.tm_idle_timeout_ns && r->nqueue == 0 &&
                     rm_free_total(r) >= (c->cfg.redundant_tms + 1) * t->nslots) {
                atomic_store(&c->tms[i].state, MC_TM_DOWN);
                atomic_fetch_sub(&c->registered, 1);
                rt_node_crash(c->tms[i].node);  /* the container is released */
            }
        } else {
            t->idle_since_ns = 0;
        }
    }
    rm_launch_if_needed(r);     /* replaces a lost redundant TaskManager */
    rt_timer_start(r->self, c->cfg.hb_interval_ns, TAG_HEARTBEAT);
}

/* What outside readers (REST, metrics: minicluster/rest.h) see of the slot
 * table, which is this actor's own: each TaskManager's free slots and last
 * heartbeat, republished after every message (at most MC_MAX_TMS stores). */
static void rm_publish(struct rm *r)
{
    struct mc_cluster *c = r->c;
    uint32_t ntms = atomic_load(&c->ntms);
    for (uint32_t i = 0; i < ntms && i < MC_MAX_TMS; i++) {
        uint32_t f = tm_registered(r, i) ? free_slots(&r->tm[i]) : 0;
        atomic_store_explicit(&c->tms[i].free_slots, f, memory_order_relaxed);
        atomic_store_explicit(&c->tms[i].last_heartbeat_ns, r->tm[i].last_reply_ns,
                              memory_order_relaxed);
    }
}

static void rm_handle(struct rt_actor *a, const struct rt_msg *m);

static void rm_msg(struct rt_actor *a, const struct rt_msg *m)
{
    rm_handle(a, m);
    rm_publish(rt_actor_state(a));
}

static void rm_handle(struct rt_actor *a, const struct rt_msg *m)
{
    struct rm *r = rt_actor_state(a);
    struct mc_cluster *c = r->c;
    atomic_fetch_add_explicit(&c->messages, 1, memory_order_relaxed);
    switch (m->type) {
    case RT_MSG_TIMER: {
        const struct rt_timer_fire *f = m->data;
        if (f->tag == TAG_HEARTBEAT)
            rm_heartbeat(r);
        else if (f->tag >= TAG_LAUNCH_BASE) {
            r->launching--;
            mc__tm_launch(c, (uint32_t)(f->tag - TAG_LAUNCH_BASE));
        }
        break;
    }
    case MC_MSG_TM_REGISTER: {
        const struct mc_reg *g = m->data;
        if (g->tm >= MC_MAX_TMS)
            break;
        struct rm_tm *t = &r->tm[g->tm];
        if (!tm_registered(r, g->tm)) {
            memset(t, 0, sizeof(*t));
            t->nslots = g->slots < MC_OFFER_MAX ? g->slots : MC_OFFER_MAX;
            atomic_store(&c->tms[g->tm].state, MC_TM_REGISTERED);
            if (atomic_fetch_add(&c->registered, 1) + 1 >= c->cfg.taskmanagers &&
                !atomic_load(&c->ready_ns))
                atomic_store(&c->ready_ns, rm_now(r));
            rt_trace(c->w, rt_actor_node(a), "tm_registered", "\"cluster\":\"%s\",\"tm\":%u", c->name, g->tm);
            rt_world_notify(c->w);
        }
        t->te = m->src;
        t->last_reply_ns = rm_now(r);
        atomic_store(&c->tms[g->tm].rm, rt_actor_addr(a));
        rt_send(a, m->src, MC_MSG_TM_REGISTERED, NULL, 0);
        rm_serve_queue(r);
        break;
    }
    case MC_MSG_HB_REPLY: {
        const struct mc_hb *hb = m->data;
        if (hb->tm < MC_MAX_TMS && tm_registered(r, hb->tm) && r->tm[hb->tm].te == m->src)
            r->tm[hb->tm].last_reply_ns = rm_now(r);
        break;
    }
    case MC_MSG_TM_LEAVING: {
        uint32_t i = *(const uint32_t *)m->data;
        char why[96];
        snprintf(why, sizeof(why), "TaskManager %s-tm%u is shutting down", c->name, i);
        if (i < MC_MAX_TMS)
            rm_lost(r, i, why);
        break;
    }
    case MC_MSG_SLOT_REQUEST: {
        const struct mc_slot_req *q = m->data;
        struct rm_req rq = { m->src, q->job, q->count, q->req };
        /* A job master asks again when what it needs has changed: its
         * queued request is stale, and serving it would hand it slots it
         * no longer waits for. */
        uint32_t kept = 0;
        for (uint32_t k = 0; k < r->nqueue; k++)
            if (r->queue[k].jm != rq.jm || r->queue[k].job != rq.job)
                r->queue[kept++] = r->queue[k];
        r->nqueue = kept;
        if (!rm_allocate(r, &rq)) {
            if (r->nqueue == r->cap_queue) {
                r->cap_queue = r->cap_queue ? 2 * r->cap_queue : 32;
                r->queue = rt_xrealloc(r->queue, r->cap_queue * sizeof(*r->queue));
            }
            r->queue[r->nqueue++] = rq;
            rm_launch_if_needed(r);
        }
        break;
    }
    case MC_MSG_SLOT_RELEASE: {
        const struct mc_slot_release *rel = m->data;
        uint32_t left = rel->count ? rel->count : UINT32_MAX;
        for (uint32_t i = 0; i < MC_MAX_TMS && left; i++) {
            if (rel->tm >= 0 && (uint32_t)rel->tm != i)
                continue;
            for (uint32_t s = 0; s < r->tm[i].nslots && left; s++)
                if (r->tm[i].slot_job[s] == rel->job) {
                    r->tm[i].slot_job[s] = 0;
                    left--;
                }
        }
        rm_serve_queue(r);
        break;
    }
    }
}

static const struct rt_actor_ops rm_ops = { "resourcemanager", rm_msg, NULL };

/* ---- job master --------------------------------------------------------------- */

struct jobmaster {
    struct rt_actor *self;
    struct mc_cluster *c;
    struct mc_job *job;
    rt_addr runner;
    struct mc_restart_state rs;
    uint32_t nslots;
    int32_t slot_tm[MC_OFFER_MAX];
    rt_addr slot_te[MC_OFFER_MAX];
    bool need[MC_OFFER_MAX];            /* the slots the next deployment uses */
    uint32_t slot_since[MC_OFFER_MAX];  /* the attempt since which slot s is where it is */
    uint32_t preparing;                 /* the attempt the slots asked for are for */
    uint64_t req;
    bool waiting;                       /* the runner waits for ENG_MSG_JOB_PROCEED */
    uint64_t wait_seq;                  /* which wait a slot-request timer belongs to */
    /* HA stores (cfg.ha only). */
    uint64_t ptr_latest;                /* newest completed checkpoint to store */
    bool ptr_busy;                      /* a pointer write is in flight */
};

/* DFS requests of a job master: the stage in the cookie's low bits, a
 * checkpoint id above them.  A failed one is retried by a timer whose tag
 * is its cookie. */
enum { HA_JOBGRAPH = 1, HA_PTR_WRITE, HA_PTR_RENAME, HA_RESULT };
/* A slot.request.timeout timer: this bit | the wait it belongs to. */
#define TAG_SLOT_TIMEOUT (UINT64_C(1) << 63)

/* Slots the next deployment needs and does not have. */
static uint32_t missing_slots(struct jobmaster *jm)
{
    uint32_t n = 0;
    for (uint32_t s = 0; s < jm->nslots; s++)
        n += jm->need[s] && jm->slot_tm[s] < 0;
    return n;
}

static void jm_request(struct jobmaster *jm)
{
    rt_addr rm = atomic_load(&jm->c->rm);
    struct mc_slot_req q = { jm->job->ej->id, missing_slots(jm), ++jm->req };
    rt_send(jm->self, rm, MC_MSG_SLOT_REQUEST, &q, sizeof(q));
}

/* Issues the DFS request of stage cookie (see HA_*) for the job's stores. */
static void ha_request(struct jobmaster *jm, uint64_t cookie)
{
    struct mc_cluster *c = jm->c;
    struct eng_job *ej = jm->job->ej;
    char path[DFS_PATH_MAX], path2[DFS_PATH_MAX], data[160];
    uint64_t id = cookie >> 4;
    struct dfs_req req = { .op = DFS_OP_WRITE, .path = path, .data = data, .job = ej->id,
                           .phase = DFS_PHASE_HA, .cookie = cookie };
    switch (cookie & 0xf) {
    case HA_JOBGRAPH:
        /* What Flink would serialize; the graph itself stays in process
         * memory (struct mc_job), found again by this id. */
        mc__ha_path(c, "jobs", ej->id, path, sizeof(path));
        req.len = (size_t)snprintf(data, sizeof(data), "job %u\nname %s\napp %s\n", ej->id,
                                   ej->name, jm->job->app);
        break;
    case HA_PTR_WRITE:
        mc__ha_path(c, "checkpoints", ej->id, path, sizeof(path));
        strcat(path, ".tmp");
        req.len = (size_t)snprintf(data, sizeof(data), "%llu\n", (unsigned long long)id);
        break;
    case HA_PTR_RENAME:
        mc__ha_path(c, "checkpoints", ej->id, path, sizeof(path));
        snprintf(path2, sizeof(path2), "%s", path);
        strcat(path, ".tmp");
        req.op = DFS_OP_RENAME;
        req.path2 = path2;
        req.data = NULL;
        break;
    case HA_RESULT:
        mc__ha_path(c, "results", ej->id, path, sizeof(path));
        req.len = (size_t)snprintf(data, sizeof(data), "%s\n", eng_job_state_name(eng_job_state(ej)));
        break;
    }
    dfs_submit(jm->self, c->dfs, &req);
}

static void ha_store_pointer(struct jobmaster *jm)
{
    jm->ptr_busy = true;
    ha_request(jm, (jm->ptr_latest << 4) | HA_PTR_WRITE);
}

static void jm_start(struct jobmaster *jm);

static void ha_done(struct jobmaster *jm, const struct dfs_done *d)
{
    if (d->status < 0) {
        rt_timer_start(jm->self, jm->c->cfg.hb_interval_ns, d->cookie);
        return;
    }
    uint64_t id = d->cookie >> 4;
    switch (d->cookie & 0xf) {
    case HA_JOBGRAPH:
        jm_start(jm);
        break;
    case HA_PTR_WRITE:
        ha_request(jm, (id << 4) | HA_PTR_RENAME);
        break;
    case HA_PTR_RENAME:
        /* Stored: a new leader would restore it, so the tasks may hear of it. */
        rt_send(jm->self, jm->runner, ENG_MSG_JOB_CHECKPOINT_STORED, &id, sizeof(id));
        jm->ptr_busy = false;
        if (jm->ptr_latest > id)
            ha_store_pointer(jm);
        break;
    case HA_RESULT:
        atomic_store(&jm->job->result_stored, true);
        rt_world_notify(jm->c->w);      /* the teardown may wait for it */
        break;
    }
}

static int jm_on_checkpoint(void *arg, uint64_t id)
{
    struct jobmaster *jm = arg;
    if (!jm->c->cfg.ha)
        return 1;
    if (id > jm->ptr_latest)
        jm->ptr_latest = id;
    if (!jm->ptr_busy)
        ha_store_pointer(jm);
    return 0;
}

static rt_addr jm_place(void *arg, uint32_t task, uint32_t attempt)
{
    struct jobmaster *jm = arg;
    uint32_t s = eng_execgraph_task(jm->job->ej->eg, task)->subtask;
    return s < jm->nslots && jm->slot_tm[s] >= 0 ? jm->slot_te[s] : 0;
}

/* Local recovery: the task's slot has been on its TaskManager since before
 * the checkpoint completed, so the task's snapshot is on that disk. */
static bool jm_local(void *arg, uint32_t task, uint32_t attempt)
{
    struct jobmaster *jm = arg;
    uint32_t s = eng_execgraph_task(jm->job->ej->eg, task)->subtask;
    return s < jm->nslots && jm->slot_tm[s] >= 0 && attempt >= jm->slot_since[s];
}

static int jm_prepare(void *arg, uint32_t attempt, const uint8_t *deploy)
{
    struct jobmaster *jm = arg;
    jm->preparing = attempt;
    const struct eng_execgraph *eg = jm->job->ej->eg;
    memset(jm->need, 0, sizeof(jm->need));
    for (uint32_t t = 0; t < eng_execgraph_task_count(eg); t++)
        if (deploy[t] && eng_execgraph_task(eg, t)->subtask < jm->nslots)
            jm->need[eng_execgraph_task(eg, t)->subtask] = true;
    /* A slot on a TaskManager whose process is gone is no slot: deploying
     * there fails at once and would burn a restart attempt for nothing.  (A
     * vanished host still looks alive: only its heartbeat timeout tells.)
     * Only the needed slots: the others' tasks run on, and the TaskManager's
     * loss, when it comes, must still find them there to fail them. */
    for (uint32_t s = 0; s < jm->nslots; s++)
        if (jm->need[s] && jm->slot_tm[s] >= 0 && !rt_addr_alive(jm->c->w, jm->slot_te[s])) {
            jm->slot_tm[s] = -1;
            atomic_store(&jm->job->slot_tm[s], -1);
        }
    jm->waiting = missing_slots(jm) > 0;
    if (jm->waiting) {
        jm_request(jm);
        /* Flink fails a slot request unanswered for slot.request.timeout,
         * counted from the request (a re-request after a further loss does
         * not restart the clock). */
        if (jm->c->cfg.slot_request_timeout_ns)
            rt_timer_start(jm->self, jm->c->cfg.slot_request_timeout_ns,
                           TAG_SLOT_TIMEOUT | ++jm->wait_seq);
    }
    return !jm->waiting;
}

static uint64_t jm_rand(void *arg)
{
    return rt_rand_u64(rt_actor_node(((struct jobmaster *)arg)->self));
}

static int jm_on_failure(void *arg, uint32_t failures, const char *reason, uint64_t *delay_ns)
{
    struct jobmaster *jm = arg;
    char why[256];
    bool again = mc_restart_on_failure(&jm->rs, rt_now(jm->c->w), jm_rand, jm, delay_ns, why,
                                       sizeof(why));
    if (!again)
        eng_job_event(jm->job->ej, rt_now(jm->c->w), "%s", why);
    return again;
}

static int jm_restart_set(void *arg, const uint32_t *failed, uint32_t nfailed, uint8_t *restart)
{
    struct jobmaster *jm = arg;
    return mc_failover_tasks(jm->job->ej->eg, jm->c->cfg.failover, failed, nfailed, restart, NULL);
}

/* The tasks in the lost TaskManager's slots have failed: the runner hears
 * which, and the slots are gone. */
static void jm_tm_lost(struct jobmaster *jm, const struct mc_tm_lost *lost)
{
    const struct eng_execgraph *eg = jm->job->ej->eg;
    uint32_t ntasks = eng_execgraph_task_count(eg);
    uint32_t *placement = rt_xmalloc(ntasks * sizeof(*placement));
    for (uint32_t t = 0; t < ntasks; t++) {
        uint32_t s = eng_execgraph_task(eg, t)->subtask;
        placement[t] = s < jm->nslots && jm->slot_tm[s] >= 0 ? (uint32_t)jm->slot_tm[s] : UINT32_MAX;
    }
    struct eng_tasks_fail *f = rt_xcalloc(1, sizeof(*f) + ntasks * sizeof(f->tasks[0]));
    snprintf(f->reason, sizeof(f->reason), "%s", lost->reason);
    f->n = mc_failover_tasks_on_tm(placement, ntasks, lost->tm, f->tasks);
    for (uint32_t s = 0; s < jm->nslots; s++)
        if (jm->slot_tm[s] == (int32_t)lost->tm) {
            jm->slot_tm[s] = -1;
            atomic_store(&jm->job->slot_tm[s], -1);
        }
    if (f->n)
        rt_send(jm->self, jm->runner, ENG_MSG_TASKS_FAIL, f,
                (uint32_t)(sizeof(*f) + f->n * sizeof(f->tasks[0])));
    /* Waiting for slots, with some of those we had gone too: the request
     * out there asks for too few. */
    if (jm->waiting && missing_slots(jm) > 0)
        jm_request(jm);
    rt_free(f);
    rt_free(placement);
}

static void jm_on_terminal(void *arg, enum eng_job_state st)
{
    struct jobmaster *jm = arg;
    atomic_store(&jm->job->finished_ns, rt_now(jm->c->w));
    struct mc_slot_release rel = { jm->job->ej->id, -1, 0 };
    rt_send(jm->self, atomic_load(&jm->c->rm), MC_MSG_SLOT_RELEASE, &rel, sizeof(rel));
    for (uint32_t s = 0; s < jm->nslots; s++)
        jm->slot_tm[s] = -1;
    mc_restart_fini(&jm->rs);      /* the runner asks no more of it */
    if (jm->c->cfg.ha)
        ha_request(jm, HA_RESULT);
}

/* The slots did not come within slot.request.timeout: as in Flink
 * (FLINK-14247) the job fails with NoResourceAvailableException, which goes
 * through the restart strategy like any failure; the restart asks again. */
static void jm_slot_timeout(struct jobmaster *jm, uint64_t seq)
{
    if (!jm->waiting || seq != jm->wait_seq)
        return;
    jm->waiting = false;
    char why[200];
    char t[32];
    uint64_t ms = jm->c->cfg.slot_request_timeout_ns / RT_NS_PER_MS;
    snprintf(t, sizeof(t), "%llu ms", (unsigned long long)ms);
    int n = snprintf(why, sizeof(why), "NoResourceAvailableException: Could not allocate the "
                     "required slot within slot request timeout (%s)", t);
    atomic_fetch_add(&jm->c->slot_timeouts, 1);
    (void)n;
    rt_send(jm->self, jm->runner, ENG_MSG_JOB_FAIL, why, (uint32_t)strlen(why) + 1);
}

static void jm_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct jobmaster *jm = rt_actor_state(a);
    atomic_fetch_add_explicit(&jm->c->messages, 1, memory_order_relaxed);
    switch (m->type) {
    case RT_MSG_TIMER: {
        uint64_t tag = ((const struct rt_timer_fire *)m->data)->tag;
        if (tag & TAG_SLOT_TIMEOUT)
            jm_slot_timeout(jm, tag & ~TAG_SLOT_TIMEOUT);
        else
            ha_request(jm, tag);    /* a retry */
        break;
    }
    case DFS_MSG_DONE: {
        struct dfs_done d;
        const void *payload;
        if (dfs_done_parse(m, &d, &payload) == 0)
            ha_done(jm, &d);
        break;
    }
    case MC_MSG_SLOT_OFFER: {
        const struct mc_slot_offer *off = m->data;
        if (off->req != jm->req) {
            /* An answer to a request we superseded: the slots were taken
             * for us all the same, so give them back. */
            for (uint32_t k = 0; k < off->n && k < MC_OFFER_MAX; k++) {
                struct mc_slot_release rel = { jm->job->ej->id, (int32_t)off->slot[k].tm, 1 };
                rt_send(a, m->src, MC_MSG_SLOT_RELEASE, &rel, sizeof(rel));
            }
            break;
        }
        uint32_t k = 0;
        for (uint32_t s = 0; s < jm->nslots && k < off->n; s++) {
            if (!jm->need[s] || jm->slot_tm[s] >= 0)
                continue;
            jm->slot_tm[s] = (int32_t)off->slot[k].tm;
            jm->slot_te[s] = off->slot[k].te;
            jm->slot_since[s] = jm->preparing;
            atomic_store(&jm->job->slot_tm[s], (int)off->slot[k].tm);
            k++;
        }
        if (jm->waiting && missing_slots(jm) == 0) {
            jm->waiting = false;
            rt_send(a, jm->runner, ENG_MSG_JOB_PROCEED, NULL, 0);
        }
        break;
    }
    case MC_MSG_TM_LOST:
        jm_tm_lost(jm, m->data);
        break;
    }
}

static const struct rt_actor_ops jm_ops = { "jobmaster", jm_msg, NULL };

static struct eng_jobrun_policy jm_policy(struct jobmaster *jm)
{
    return (struct eng_jobrun_policy){ .place = jm_place, .prepare = jm_prepare,
                                       .on_failure = jm_on_failure,
                                       .restart_set = jm_restart_set,
                                       .on_terminal = jm_on_terminal,
                                       .on_checkpoint = jm_on_checkpoint, .local = jm_local,
                                       .arg = jm };
}

/* A job master on node n for job, its runner not started yet. */
static struct jobmaster *jm_new(struct rt_node *n, struct mc_job *job)
{
    struct mc_cluster *c = job->cluster;
    struct jobmaster *jm = rt_xcalloc(1, sizeof(*jm));
    jm->self = rt_actor_spawn(n, &jm_ops, jm);
    jm->c = c;
    jm->job = job;
    mc_restart_init(&jm->rs, &c->cfg.restart);
    const struct eng_jobgraph *g = job->ej->graph;
    for (uint32_t v = 0; v < eng_jobgraph_vertex_count(g); v++)
        if (eng_jobgraph_vertex(g, v)->parallelism > jm->nslots)
            jm->nslots = eng_jobgraph_vertex(g, v)->parallelism;
    if (jm->nslots > MC_OFFER_MAX)
        jm->nslots = MC_OFFER_MAX;
    for (uint32_t s = 0; s < jm->nslots; s++) {
        jm->slot_tm[s] = -1;
        atomic_store(&job->slot_tm[s], -1);
    }
    atomic_store(&job->nslots, jm->nslots);
    return jm;
}

static void jm_start(struct jobmaster *jm)
{
    struct eng_jobrun_policy pol = jm_policy(jm);
    jm->runner = rt_actor_addr(eng_jobrun_spawn(rt_actor_node(jm->self), jm->job->ej, &pol));
    atomic_store(&jm->job->runner, jm->runner);
}

void mc__jm_submit(struct rt_node *n, void *arg)
{
    struct mc_job *job = arg;
    struct mc_cluster *c = job->cluster;
    struct jobmaster *jm = jm_new(n, job);
    rt_trace(c->w, n, "job_submitted", "\"cluster\":\"%s\",\"job\":%u", c->name, job->ej->id);
    if (c->cfg.ha)
        ha_request(jm, HA_JOBGRAPH);    /* the job runs once its entry is stored */
    else
        jm_start(jm);
}

void mc__jm_recover(struct rt_node *n, struct mc_job *job, uint64_t checkpoint_id)
{
    struct mc_cluster *c = job->cluster;
    struct jobmaster *jm = jm_new(n, job);
    rt_trace(c->w, n, "job_recovered", "\"cluster\":\"%s\",\"job\":%u,\"checkpoint\":%llu",
             c->name, job->ej->id, (unsigned long long)checkpoint_id);
    jm->ptr_latest = checkpoint_id;
    struct eng_jobrun_policy pol = jm_policy(jm);
    jm->runner = rt_actor_addr(eng_jobrun_spawn_restoring(n, job->ej, &pol, checkpoint_id));
    atomic_store(&job->runner, jm->runner);
}

void mc__jm_spawn(struct rt_node *n, void *arg)
{
    struct mc_cluster *c = arg;
    struct rm *r = rt_xcalloc(1, sizeof(*r));
    r->c = c;
    r->self = rt_actor_spawn(n, &rm_ops, r);
    atomic_store(&c->rm, rt_actor_addr(r->self));
    rt_timer_start(r->self, c->cfg.hb_interval_ns, TAG_HEARTBEAT);
    /* TaskManagers that came up first found no resource manager: tell them
     * rather than leave them to their retry timer.  The address store above
     * and each executor's store of its own address before it reads c->rm
     * (both seq_cst) mean every executor sees one or the other. */
    uint32_t ntms = atomic_load(&c->ntms);
    for (uint32_t i = 0; i < ntms && i < MC_MAX_TMS; i++) {
        rt_addr te = atomic_load(&c->tms[i].te);
        if (te)
            rt_send(r->self, te, MC_MSG_RM_UP, NULL, 0);
    }
    /* The blob server runs where the resource manager does: on the leader. */
    mc__blob_spawn(n, c);
    rt_world_notify(c->w);
}
