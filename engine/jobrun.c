/*
 * jobrun.c - the job runner actor: deployment, checkpoint coordination and
 * failover for one job (see jobrun.h for the protocol).  It runs on one node
 * and is the only writer of its job's attempts, counters and events.
 *
 * Per task it keeps the attempt the task was deployed with, its state as
 * last reported, and `restart`: the task has been told to stop (or never
 * started) and waits for the next deployment.  Such a task counts neither
 * as running nor as a source that ended, and whatever its stopped instance
 * still says is ignored.  A deployment deploys exactly the waiting tasks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/jobrun.h"
#include "engine/operator.h"
#include "runtime/dfs.h"

enum { TAG_TRIGGER = 1, TAG_RESTART = 2, TAG_TIMEOUT_BASE = 16 };

/* Metadata write stages, in the low bits of the DFS cookie. */
enum { META_WRITE = 1, META_FSYNC, META_RENAME, META_DELETE, META_READ };

struct pending {
    uint64_t id;                /* 0: free */
    uint64_t ts_ms;
    bool final;
    uint32_t acks;
    uint64_t timeout_timer;
    uint32_t n;                 /* entries so far */
    struct eng_meta_entry *e;   /* ntasks * ENG_CHAIN_MAX */
};

struct completed {
    uint64_t id;
    uint32_t n;
    struct eng_meta_entry *e;
};

struct jobrun {
    struct rt_actor *self;
    struct eng_job *job;
    struct eng_jobrun_policy pol;
    uint32_t ntasks;
    uint32_t attempt;           /* the latest deployment's; one more per deployment */
    struct eng_attempt *att;    /* the latest deployment's channels */
    uint32_t *tattempt;         /* per task: the attempt it was deployed with */
    uint8_t *tstate;            /* enum eng_task_state per task */
    uint8_t *input_ended;       /* per task: its source reported the end of input */
    uint8_t *restart;           /* per task: waits for the next deployment */
    uint8_t *mask;              /* a failover's restart set (scratch) */
    rt_addr *taddr;             /* task actors, learned from their status */
    uint32_t running, finished, sources, sources_ended;
    uint32_t failures;
    bool final_triggered;
    bool deployed;              /* once: later deployments are restarts */
    uint64_t restart_timer, restart_at;
    uint64_t next_chk, last_complete_ns, consecutive_failed;
    struct pending *pend;       /* max_concurrent */
    struct completed *done;     /* num_retained, oldest first */
    uint32_t ndone;
    uint64_t *subsumed;         /* completed, no longer retained, deleted once announced */
    uint32_t nsubsumed;
    uint64_t announced;         /* latest checkpoint the tasks were notified of */
    uint64_t trigger_timer;
};

static uint64_t now(struct jobrun *r) { return rt_now(rt_actor_world(r->self)); }

static void set_state(struct jobrun *r, enum eng_job_state st, const char *why)
{
    atomic_store_explicit(&r->job->state, st, memory_order_release);
    eng_job_event(r->job, now(r), "%s%s%s", eng_job_state_name(st), why ? ": " : "", why ? why : "");
    rt_trace(rt_actor_world(r->self), rt_actor_node(r->self), "job_state",
             "\"job\":%u,\"state\":\"%s\"", r->job->id, eng_job_state_name(st));
    rt_world_notify(rt_actor_world(r->self));
    if ((st == ENG_JOB_FINISHED || st == ENG_JOB_FAILED || st == ENG_JOB_CANCELED) &&
        r->pol.on_terminal)
        r->pol.on_terminal(r->pol.arg, st);
}

static bool is_source_task(struct jobrun *r, uint32_t t)
{
    const struct eng_execgraph *eg = r->job->eg;
    const struct eng_chain *c = eng_execgraph_chain(eg, eng_execgraph_task(eg, t)->chain);
    return eng_op_kind_is_source(eng_jobgraph_vertex(r->job->graph, c->ops[0])->kind);
}

/* Tells task t's current instance, if it has reported, to stop. */
static void cancel_task(struct jobrun *r, uint32_t t)
{
    if (r->taddr[t])
        rt_send(r->self, r->taddr[t], ENG_MSG_CANCEL, &r->tattempt[t], sizeof(r->tattempt[t]));
}

static void delete_checkpoint(struct jobrun *r, uint64_t id)
{
    char prefix[160];
    snprintf(prefix, sizeof(prefix), "%s/chk-%llu/", r->job->dir, (unsigned long long)id);
    struct dfs_req req = { .op = DFS_OP_DELETE, .path = prefix, .flags = DFS_F_PREFIX,
                           .job = r->job->id, .phase = DFS_PHASE_CHECKPOINT,
                           .cookie = (id << 4) | META_DELETE };
    dfs_submit(r->self, r->job->dfs, &req);
}

static void abort_pending(struct jobrun *r, struct pending *p, const char *why)
{
    if (!p->id)
        return;
    atomic_fetch_add(&r->job->checkpoints_failed, 1);
    eng_job_event(r->job, now(r), "checkpoint %llu failed: %s", (unsigned long long)p->id, why);
    if (p->timeout_timer)
        rt_timer_cancel(r->self, p->timeout_timer);
    delete_checkpoint(r, p->id);
    p->id = 0;
}

/* ---- deployment -------------------------------------------------------------- */

/* The channels of a deployment: new ones where a task it deploys sits at
 * either end, the latest deployment's elsewhere (their tasks run on). */
static struct eng_attempt *new_attempt(struct jobrun *r)
{
    struct eng_job *j = r->job;
    struct eng_attempt *a = rt_xcalloc_process(1, sizeof(*a));
    a->attempt = r->attempt;
    a->nchans = eng_execgraph_channel_count(j->eg);
    a->chans = rt_xcalloc_process(a->nchans ? a->nchans : 1, sizeof(*a->chans));
    a->owns = rt_xcalloc_process(a->nchans ? a->nchans : 1, sizeof(*a->owns));
    for (uint32_t c = 0; c < a->nchans; c++) {
        const struct eng_channel *ch = eng_execgraph_channel(j->eg, c);
        a->owns[c] = !r->att || r->restart[ch->producer] || r->restart[ch->consumer];
        a->chans[c] = a->owns[c] ? eng_chan_new(c, j->cfg.chan_slots) : r->att->chans[c];
    }
    a->next = j->attempts;
    j->attempts = a;            /* the runner is the only writer */
    return a;
}

/* Deploys every task waiting for a deployment, restoring the latest
 * completed checkpoint. */
static void deploy(struct jobrun *r)
{
    struct eng_job *j = r->job;
    const struct eng_execgraph *eg = j->eg;
    struct eng_attempt *a = new_attempt(r);
    r->att = a;
    bool restart = r->deployed;
    r->deployed = true;

    const struct completed *from = r->ndone ? &r->done[r->ndone - 1] : NULL;
    uint32_t n = 0;
    for (uint32_t t = 0; t < r->ntasks; t++) {
        if (!r->restart[t])
            continue;
        struct eng_deploy d = { .job = j, .att = a, .task = t, .attempt = r->attempt,
                                .runner = rt_actor_addr(r->self) };
        const struct eng_task *tk = eng_execgraph_task(eg, t);
        const struct eng_chain *ch = eng_execgraph_chain(eg, tk->chain);
        if (from) {
            d.restore_checkpoint = from->id;
            for (uint32_t i = 0; i < from->n; i++)
                for (uint32_t o = 0; o < ch->n_ops; o++)
                    if (from->e[i].vertex == ch->ops[o] && from->e[i].subtask == tk->subtask &&
                        d.n_restore < ENG_CHAIN_MAX)
                        d.restore[d.n_restore++] = from->e[i];
        }
        r->tstate[t] = ENG_TASK_DEPLOYING;
        rt_addr host = r->pol.place(r->pol.arg, t, r->attempt);
        /* Opaque: the deployment carries pointers to the shared job. */
        if (!host || rt_send_opaque(r->self, host, ENG_MSG_DEPLOY, &d, sizeof(d)) < 0) {
            /* Nowhere to run it: the attempt cannot start. */
            char why[96];
            snprintf(why, sizeof(why), "no TaskManager to deploy task %u of attempt %u", t,
                     r->attempt);
            rt_send(r->self, rt_actor_addr(r->self), ENG_MSG_JOB_FAIL, why, (uint32_t)strlen(why) + 1);
            return;
        }
        r->tattempt[t] = r->attempt;
        r->restart[t] = 0;
        n++;
        if (restart)
            atomic_fetch_add(&j->tasks_restarted, 1);
    }
    char restoring[48] = "";
    if (from)
        snprintf(restoring, sizeof(restoring), ", restoring checkpoint %llu",
                 (unsigned long long)from->id);
    eng_job_event(j, now(r), "attempt %u deployed: %u of %u tasks%s", r->attempt, n, r->ntasks,
                  restoring);
}

/* ---- checkpoints ------------------------------------------------------------- */

static void trigger(struct jobrun *r, bool final)
{
    struct pending *p = NULL;
    for (uint32_t i = 0; i < (r->job->cfg.max_concurrent ? r->job->cfg.max_concurrent : 1); i++)
        if (!r->pend[i].id)
            p = &r->pend[i];
    if (!p)
        return;
    p->id = r->next_chk++;
    p->ts_ms = now(r) / RT_NS_PER_MS;
    p->final = final;
    p->acks = p->n = 0;
    if (final)
        r->final_triggered = true;
    uint64_t tmo = r->job->cfg.checkpoint_timeout_ns;
    p->timeout_timer = rt_timer_start(r->self, tmo, TAG_TIMEOUT_BASE + p->id);
    struct eng_trigger tr = { .checkpoint_id = p->id, .timestamp_ms = p->ts_ms, .final = final };
    for (uint32_t t = 0; t < r->ntasks; t++)
        if (is_source_task(r, t) && r->taddr[t]) {
            tr.attempt = r->tattempt[t];
            rt_send(r->self, r->taddr[t], ENG_MSG_TRIGGER, &tr, sizeof(tr));
        }
    rt_trace(rt_actor_world(r->self), rt_actor_node(r->self), "checkpoint_trigger",
             "\"job\":%u,\"id\":%llu,\"final\":%s", r->job->id, (unsigned long long)p->id,
             final ? "true" : "false");
}

static bool may_trigger(struct jobrun *r)
{
    if (eng_job_state(r->job) != ENG_JOB_RUNNING || r->final_triggered ||
        r->running + r->finished < r->ntasks)
        return false;
    return now(r) - r->last_complete_ns >= r->job->cfg.min_pause_ns || !r->last_complete_ns;
}

static struct pending *find_pending(struct jobrun *r, uint64_t id)
{
    for (uint32_t i = 0; i < (r->job->cfg.max_concurrent ? r->job->cfg.max_concurrent : 1); i++)
        if (r->pend[i].id == id)
            return &r->pend[i];
    return NULL;
}

static void fail_job(struct jobrun *r, const char *reason);

static void checkpoint_failed(struct jobrun *r, struct pending *p, const char *why)
{
    bool final = p->final;
    abort_pending(r, p, why);
    if (final) {
        r->final_triggered = false;
        fail_job(r, "the final checkpoint failed");
        return;
    }
    if (++r->consecutive_failed > r->job->cfg.tolerable_failed)
        fail_job(r, "Exceeded checkpoint tolerable failure threshold.");
}

static void on_ack(struct jobrun *r, const struct rt_msg *m)
{
    const struct eng_ack *a = m->data;
    if (m->len < sizeof(*a) || a->task >= r->ntasks || a->attempt != r->tattempt[a->task] ||
        r->restart[a->task])
        return;
    struct pending *p = find_pending(r, a->checkpoint_id);
    if (!p)
        return;
    if (a->declined) {
        checkpoint_failed(r, p, a->reason);
        return;
    }
    const struct eng_meta_entry *e = (const void *)(a + 1);
    for (uint32_t i = 0; i < a->n && p->n < r->ntasks * ENG_CHAIN_MAX; i++)
        p->e[p->n++] = e[i];
    if (++p->acks < r->ntasks)
        return;
    /* Every task's files are durable: write the metadata, last. */
    struct eng_meta meta = { .job_id = r->job->id, .checkpoint_id = p->id,
                             .timestamp_ms = p->ts_ms, .n_entries = p->n, .entries = p->e };
    uint8_t *buf = NULL;
    size_t len = 0;
    if (eng_meta_encode(&meta, &buf, &len) < 0) {
        checkpoint_failed(r, p, "cannot encode the metadata");
        return;
    }
    char path[160];
    snprintf(path, sizeof(path), "%s/chk-%llu/_metadata.tmp", r->job->dir,
             (unsigned long long)p->id);
    struct dfs_req req = { .op = DFS_OP_WRITE, .path = path, .data = buf, .len = len,
                           .job = r->job->id, .phase = DFS_PHASE_CHECKPOINT,
                           .cookie = (p->id << 4) | META_WRITE };
    dfs_submit(r->self, r->job->dfs, &req);
    rt_free(buf);
}

/* Tells the tasks that checkpoint id completed (sinks commit up to it) and
 * deletes the checkpoints it subsumes.  With an owner storing checkpoint ids
 * this waits for the store: until then a new JobManager would restore the
 * previous checkpoint, which must therefore exist and be what the sinks
 * committed last. */
static void announce(struct jobrun *r, uint64_t id)
{
    if (id <= r->announced)
        return;
    r->announced = id;
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->nsubsumed; i++) {
        if (r->subsumed[i] < id)
            delete_checkpoint(r, r->subsumed[i]);
        else
            r->subsumed[k++] = r->subsumed[i];
    }
    r->nsubsumed = k;
    struct eng_notify nt = { .checkpoint_id = id };
    for (uint32_t t = 0; t < r->ntasks; t++)
        if (r->taddr[t]) {
            nt.attempt = r->tattempt[t];
            rt_send(r->self, r->taddr[t], ENG_MSG_NOTIFY, &nt, sizeof(nt));
        }
}

static void complete(struct jobrun *r, struct pending *p)
{
    uint32_t keep = r->job->cfg.num_retained ? r->job->cfg.num_retained : 1;
    if (r->ndone == keep) {
        r->subsumed = rt_xrealloc(r->subsumed, (r->nsubsumed + 1) * sizeof(*r->subsumed));
        r->subsumed[r->nsubsumed++] = r->done[0].id;
        rt_free(r->done[0].e);
        memmove(&r->done[0], &r->done[1], (keep - 1) * sizeof(*r->done));
        r->ndone--;
    }
    struct completed *c = &r->done[r->ndone++];
    c->id = p->id;
    c->n = p->n;
    c->e = rt_xmalloc((p->n ? p->n : 1) * sizeof(*c->e));
    memcpy(c->e, p->e, p->n * sizeof(*c->e));
    rt_timer_cancel(r->self, p->timeout_timer);
    uint64_t id = p->id;
    p->id = 0;
    r->consecutive_failed = 0;
    r->last_complete_ns = now(r);
    atomic_store(&r->job->last_checkpoint, id);
    atomic_fetch_add(&r->job->checkpoints_completed, 1);
    rt_trace(rt_actor_world(r->self), rt_actor_node(r->self), "checkpoint_complete",
             "\"job\":%u,\"id\":%llu", r->job->id, (unsigned long long)id);
    rt_world_notify(rt_actor_world(r->self));
    if (!r->pol.on_checkpoint || r->pol.on_checkpoint(r->pol.arg, id))
        announce(r, id);
}

static void deploy_if_ready(struct jobrun *r)
{
    /* The owner may need to find resources first (a lost TaskManager's
     * slots); it says ENG_MSG_JOB_PROCEED when they are there. */
    if (!r->pol.prepare || r->pol.prepare(r->pol.arg, r->attempt, r->restart))
        deploy(r);
}

/* The metadata of the checkpoint a recovered job starts from has been read:
 * it becomes the one completed checkpoint, and attempt 0 restores it. */
static void on_restore_meta(struct jobrun *r, uint64_t id, const struct dfs_done *d,
                            const void *payload)
{
    char why[320] = "";
    struct eng_meta meta;
    bool decoded = false;
    if (d->status < 0) {
        snprintf(why, sizeof(why), "cannot read the metadata of checkpoint %llu: %s",
                 (unsigned long long)id, strerror(-d->status));
    } else {
        char what[160], err[160];
        snprintf(what, sizeof(what), "%s/chk-%llu/_metadata", r->job->dir, (unsigned long long)id);
        decoded = eng_meta_decode(payload, (size_t)d->bytes, what, &meta, err, sizeof(err)) == 0;
        if (!decoded)
            snprintf(why, sizeof(why), "cannot decode the metadata of checkpoint %llu: %s",
                     (unsigned long long)id, err);
        else if (meta.checkpoint_id != id)
            snprintf(why, sizeof(why), "the metadata of checkpoint %llu names checkpoint %llu",
                     (unsigned long long)id, (unsigned long long)meta.checkpoint_id);
    }
    if (why[0]) {
        if (decoded)
            eng_meta_release(&meta);
        /* A fresh start would repeat what the sinks committed: give up. */
        set_state(r, ENG_JOB_FAILED, why);
        return;
    }
    struct completed *c = &r->done[r->ndone++];
    c->id = id;
    c->n = meta.n_entries;
    c->e = rt_xmalloc((c->n ? c->n : 1) * sizeof(*c->e));
    memcpy(c->e, meta.entries, c->n * sizeof(*c->e));
    eng_meta_release(&meta);
    r->next_chk = id + 1;
    r->announced = id;
    deploy_if_ready(r);
}

static void on_meta_io(struct jobrun *r, const struct dfs_done *d, const void *payload)
{
    uint64_t id = d->cookie >> 4;
    unsigned stage = (unsigned)(d->cookie & 0xf);
    if (stage == META_DELETE)
        return;
    if (stage == META_READ) {
        on_restore_meta(r, id, d, payload);
        return;
    }
    struct pending *p = find_pending(r, id);
    if (!p)
        return;     /* aborted meanwhile */
    if (d->status < 0) {
        char why[96];
        snprintf(why, sizeof(why), "writing its metadata: %s", strerror(-d->status));
        checkpoint_failed(r, p, why);
        return;
    }
    char tmp[160], fin[160];
    snprintf(tmp, sizeof(tmp), "%s/chk-%llu/_metadata.tmp", r->job->dir, (unsigned long long)id);
    snprintf(fin, sizeof(fin), "%s/chk-%llu/_metadata", r->job->dir, (unsigned long long)id);
    struct dfs_req req = { .job = r->job->id, .phase = DFS_PHASE_CHECKPOINT };
    if (stage == META_WRITE) {
        req.op = DFS_OP_FSYNC;
        req.path = tmp;
        req.cookie = (id << 4) | META_FSYNC;
    } else if (stage == META_FSYNC) {
        req.op = DFS_OP_RENAME;
        req.path = tmp;
        req.path2 = fin;
        req.cookie = (id << 4) | META_RENAME;
    } else {
        complete(r, p);
        return;
    }
    dfs_submit(r->self, r->job->dfs, &req);
}

/* ---- failure and restart ----------------------------------------------------- */

/* Breaks task t's channels, which its next instance will not use (a
 * deployment makes new channels for the tasks it deploys).  An instance
 * that has not reported yet cannot be cancelled; with its channels broken
 * it fails at its first step instead of feeding its sinks beside its
 * successor. */
static void break_channels(struct jobrun *r, uint32_t t)
{
    const struct eng_execgraph *eg = r->job->eg;
    const struct eng_task *tk = eng_execgraph_task(eg, t);
    char cause[64];
    snprintf(cause, sizeof(cause), "task %u restarts", t);
    for (uint32_t i = 0; i < tk->n_in; i++)
        eng_chan_break(r->att->chans[eng_execgraph_inputs(eg)[tk->first_in + i]], cause);
    for (uint32_t i = 0; i < tk->n_out; i++)
        eng_chan_break(r->att->chans[tk->first_out + i], cause);
}

/* Task t is to restart: it stops, and it counts neither as running nor as a
 * source that ended until its next instance says so. */
static void stop_task(struct jobrun *r, uint32_t t)
{
    cancel_task(r, t);
    if (r->att)
        break_channels(r, t);
    r->taddr[t] = 0;
    if (r->tstate[t] == ENG_TASK_RUNNING)
        r->running--;
    else if (r->tstate[t] == ENG_TASK_FINISHED)
        r->finished--;
    r->sources_ended -= r->input_ended[t];
    r->input_ended[t] = 0;
    r->tstate[t] = ENG_TASK_CANCELED;
    r->restart[t] = 1;
}

/* Whether mask can restart while the other tasks run on: it holds every
 * failed task, and no channel joins a task in it to one outside (that one
 * would wait on a channel nobody serves any more). */
static bool closed_set(struct jobrun *r, const uint32_t *failed, uint32_t nfailed,
                       const uint8_t *mask)
{
    const struct eng_execgraph *eg = r->job->eg;
    for (uint32_t i = 0; i < nfailed; i++)
        if (!mask[failed[i]])
            return false;
    for (uint32_t c = 0; c < eng_execgraph_channel_count(eg); c++) {
        const struct eng_channel *ch = eng_execgraph_channel(eg, c);
        if (mask[ch->producer] != mask[ch->consumer])
            return false;
    }
    return true;
}

/* Puts the tasks to restart after failed[] (NULL: the whole job) in r->mask.
 * Returns NULL when the failover strategy's set is a part of the job, or
 * why every task restarts ("" for no particular reason). */
static const char *restart_set(struct jobrun *r, const uint32_t *failed, uint32_t nfailed,
                               bool restore_failed)
{
    const char *why = "";
    if (!failed)
        why = "the whole job failed";
    else if (restore_failed)
        why = "a restore failed";
    else if (r->final_triggered || r->finished)
        why = "the job is finishing";   /* see jobrun.h: no region restart then */
    else if (r->pol.restart_set) {
        memset(r->mask, 0, r->ntasks);
        if (r->pol.restart_set(r->pol.arg, failed, nfailed, r->mask) < 0 ||
            !closed_set(r, failed, nfailed, r->mask)) {
            why = "the failover strategy gave no restart set that can run alone";
        } else {
            for (uint32_t t = 0; t < r->ntasks; t++)
                if (!r->mask[t])
                    return NULL;
            why = "the failover strategy restarts every task";
        }
    }
    memset(r->mask, 1, r->ntasks);
    return why;
}

/* "3 of 9 tasks, region 1 of 3 (region failover)": what the waiting
 * restart deploys, for the job's events. */
static void describe_restart(struct jobrun *r, const char *full, char *buf, size_t len)
{
    const struct eng_execgraph *eg = r->job->eg;
    uint32_t n = 0, nreg = eng_execgraph_region_count(eg), in = 0;
    for (uint32_t t = 0; t < r->ntasks; t++)
        n += r->restart[t];
    size_t at = (size_t)snprintf(buf, len, "%u of %u tasks", n, r->ntasks);
    if (full) {
        snprintf(buf + at, len - at, " (full failover%s%s)", full[0] ? ": " : "", full);
        return;
    }
    for (uint32_t g = 0; g < nreg; g++)
        in += r->restart[eng_execgraph_region(eg, g)->tasks[0]];
    at += (size_t)snprintf(buf + at, len - at, ", region%s", in > 1 ? "s" : "");
    for (uint32_t g = 0; g < nreg && at + 32 < len; g++)
        if (r->restart[eng_execgraph_region(eg, g)->tasks[0]])
            at += (size_t)snprintf(buf + at, len - at, " %u", g);
    snprintf(buf + at, len - at, " of %u (region failover)", nreg);
}

/*
 * Tasks failed[] failed (failed NULL: the whole job did).  Stops the tasks
 * to restart - those the strategy picks and every task in the cases
 * jobrun.h lists - aborts the pending checkpoints and asks the policy
 * whether and when to restart.  While a restart waits for its delay, the
 * failure widens it instead of starting another.  Tasks that already wait
 * for their restart are no news.
 */
static void failover(struct jobrun *r, const uint32_t *failed, uint32_t nfailed,
                     const char *reason, bool restore_failed)
{
    enum eng_job_state st = eng_job_state(r->job);
    if (st != ENG_JOB_RUNNING && st != ENG_JOB_CREATED && st != ENG_JOB_RESTARTING)
        return;
    bool news = !failed;
    for (uint32_t i = 0; i < nfailed; i++)
        news |= !r->restart[failed[i]];
    if (!news)
        return;
    const char *full = restart_set(r, failed, nfailed, restore_failed);
    bool widen = st == ENG_JOB_RESTARTING;
    if (widen)
        eng_job_event(r->job, now(r), "failure while restarting: %s", reason);
    else
        set_state(r, ENG_JOB_FAILING, reason);
    for (uint32_t t = 0; t < r->ntasks; t++)
        if (r->mask[t] && !r->restart[t])
            stop_task(r, t);
    for (uint32_t i = 0; i < (r->job->cfg.max_concurrent ? r->job->cfg.max_concurrent : 1); i++)
        abort_pending(r, &r->pend[i], "tasks failed");
    r->final_triggered = false;
    if (restore_failed && r->ndone > 0) {
        /* The checkpoint we restored from is unreadable: fall back to the one before. */
        struct completed *bad = &r->done[--r->ndone];
        eng_job_event(r->job, now(r), "checkpoint %llu dropped, falling back to %s: %s",
                      (unsigned long long)bad->id,
                      r->ndone ? "the previous checkpoint" : "a fresh start", reason);
        atomic_fetch_add(&r->job->restores_fell_back, 1);
        rt_free(bad->e);
    }
    uint64_t delay = 0;
    int again = r->pol.on_failure ? r->pol.on_failure(r->pol.arg, ++r->failures, reason, &delay) : 1;
    if (!again) {
        for (uint32_t t = 0; t < r->ntasks; t++)
            cancel_task(r, t);
        set_state(r, ENG_JOB_FAILED, reason);
        return;
    }
    char what[192];
    describe_restart(r, full, what, sizeof(what));
    uint64_t at = now(r) + delay;
    if (widen) {
        eng_job_event(r->job, now(r), "restart widened to %s", what);
        if (at <= r->restart_at)
            return;
        rt_timer_cancel(r->self, r->restart_timer);
    } else {
        set_state(r, ENG_JOB_RESTARTING, what);
    }
    r->restart_at = at;
    r->restart_timer = rt_timer_start(r->self, delay, TAG_RESTART);
}

static void fail_job(struct jobrun *r, const char *reason)
{
    failover(r, NULL, 0, reason, false);
}

static void on_status(struct jobrun *r, const struct rt_msg *m)
{
    const struct eng_task_status *s = m->data;
    if (m->len != sizeof(*s) || s->task >= r->ntasks)
        return;
    if (s->attempt != r->tattempt[s->task] || r->restart[s->task]) {
        /* An attempt left behind, or an instance told to stop.  One that had
         * not reported when its restart came could not be cancelled then;
         * a task without channels to break (a whole pipeline chained into
         * one) runs now, and must stop. */
        if (s->state == ENG_TASK_RUNNING)
            rt_send(r->self, m->src, ENG_MSG_CANCEL, &s->attempt, sizeof(s->attempt));
        return;
    }
    r->taddr[s->task] = m->src;
    uint8_t before = r->tstate[s->task];
    switch (s->state) {
    case ENG_TASK_RUNNING:
        if (before != ENG_TASK_DEPLOYING)
            break;
        r->tstate[s->task] = ENG_TASK_RUNNING;
        if (++r->running == r->ntasks && eng_job_state(r->job) == ENG_JOB_CREATED)
            set_state(r, ENG_JOB_RUNNING, NULL);
        break;
    case ENG_TASK_INPUT_ENDED:
        /* Count each task once: the network may duplicate a message. */
        if (r->input_ended[s->task])
            break;
        r->input_ended[s->task] = 1;
        r->sources_ended++;
        break;
    case ENG_TASK_FINISHED:
        if (before == ENG_TASK_FINISHED)
            break;      /* a duplicate */
        r->tstate[s->task] = ENG_TASK_FINISHED;
        if (before == ENG_TASK_RUNNING)
            r->running--;
        if (++r->finished == r->ntasks) {
            rt_timer_cancel(r->self, r->trigger_timer);
            set_state(r, ENG_JOB_FINISHED, NULL);
        }
        break;
    case ENG_TASK_FAILED: {
        char why[256];
        snprintf(why, sizeof(why), "task %u: %s", s->task, s->reason);
        r->taddr[s->task] = 0;      /* gone: nothing to cancel */
        failover(r, &s->task, 1, why, s->restore_failed);
        break;
    }
    }
}

/* ---- messages ------------------------------------------------------------------ */

static void on_timer(struct jobrun *r, const struct rt_timer_fire *f)
{
    if (f->tag == TAG_TRIGGER) {
        if (may_trigger(r))
            trigger(r, false);
        r->trigger_timer = rt_timer_start(r->self, r->job->cfg.checkpoint_interval_ns, TAG_TRIGGER);
    } else if (f->tag == TAG_RESTART) {
        if (eng_job_state(r->job) != ENG_JOB_RESTARTING || f->timer_id != r->restart_timer)
            return;     /* a timer a widened restart replaced */
        r->attempt++;
        atomic_fetch_add(&r->job->restarts, 1);
        set_state(r, ENG_JOB_CREATED, NULL);
        deploy_if_ready(r);
    } else if (f->tag >= TAG_TIMEOUT_BASE) {
        struct pending *p = find_pending(r, f->tag - TAG_TIMEOUT_BASE);
        if (p) {
            p->timeout_timer = 0;
            checkpoint_failed(r, p, "Checkpoint expired before completing.");
        }
    }
}

/*
 * Every source has reached the end of its input: a final checkpoint lets the
 * sinks commit the last records.  Checked after anything that can make it
 * true - a source ending, the job becoming RUNNING (a tiny job's sources may
 * end before its last task runs), a pending checkpoint finishing (the final
 * one waits for it).
 */
static void maybe_final(struct jobrun *r)
{
    if (!r->sources || r->sources_ended < r->sources || r->final_triggered ||
        eng_job_state(r->job) != ENG_JOB_RUNNING)
        return;
    for (uint32_t i = 0; i < (r->job->cfg.max_concurrent ? r->job->cfg.max_concurrent : 1); i++)
        if (r->pend[i].id)
            return;
    trigger(r, true);
}

/* The owner says these tasks failed (a lost TaskManager's, say). */
static void on_tasks_fail(struct jobrun *r, const struct rt_msg *m)
{
    const struct eng_tasks_fail *f = m->data;
    if (m->len < sizeof(*f) || (m->len - sizeof(*f)) / sizeof(f->tasks[0]) < f->n)
        return;
    for (uint32_t i = 0; i < f->n; i++)
        if (f->tasks[i] >= r->ntasks)
            return;
    char why[sizeof(f->reason)];
    snprintf(why, sizeof(why), "%.*s", (int)sizeof(f->reason) - 1, f->reason);
    failover(r, f->tasks, f->n, why, false);
}

static void runner_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct jobrun *r = rt_actor_state(a);
    switch (m->type) {
    case RT_MSG_TIMER:
        on_timer(r, m->data);
        break;
    case ENG_MSG_TASK_STATUS:
        on_status(r, m);
        maybe_final(r);
        break;
    case ENG_MSG_TASK_ACK:
        on_ack(r, m);
        maybe_final(r);
        break;
    case DFS_MSG_DONE: {
        struct dfs_done d;
        const void *payload;
        if (dfs_done_parse(m, &d, &payload) == 0)
            on_meta_io(r, &d, payload);
        maybe_final(r);
        break;
    }
    case ENG_MSG_JOB_FAIL: {
        char why[200];
        snprintf(why, sizeof(why), "%.*s", (int)(m->len ? m->len : 1), m->len ? (const char *)m->data : "");
        fail_job(r, why);
        break;
    }
    case ENG_MSG_TASKS_FAIL:
        on_tasks_fail(r, m);
        break;
    case ENG_MSG_JOB_CHECKPOINT_STORED:
        if (m->len == sizeof(uint64_t))
            announce(r, *(const uint64_t *)m->data);
        break;
    case ENG_MSG_JOB_PROCEED:
        if (eng_job_state(r->job) == ENG_JOB_CREATED && (!r->att || r->att->attempt != r->attempt))
            deploy(r);
        break;
    case ENG_MSG_JOB_CANCEL:
        for (uint32_t t = 0; t < r->ntasks; t++)
            cancel_task(r, t);
        set_state(r, ENG_JOB_CANCELED, NULL);
        break;
    }
}

static const struct rt_actor_ops runner_ops = { "jobrun", runner_msg, NULL };

/* The runner's state, its first checkpoint trigger scheduled; nothing deployed. */
static struct jobrun *runner_new(struct rt_node *n, struct eng_job *j,
                                 const struct eng_jobrun_policy *policy)
{
    struct jobrun *r = rt_xcalloc(1, sizeof(*r));
    r->self = rt_actor_spawn(n, &runner_ops, r);
    r->job = j;
    r->pol = *policy;
    r->ntasks = eng_execgraph_task_count(j->eg);
    r->tattempt = rt_xcalloc(r->ntasks, sizeof(*r->tattempt));
    r->tstate = rt_xcalloc(r->ntasks, sizeof(*r->tstate));
    r->input_ended = rt_xcalloc(r->ntasks, sizeof(*r->input_ended));
    r->restart = rt_xmalloc(r->ntasks);
    memset(r->restart, 1, r->ntasks);   /* the first deployment deploys every task */
    r->mask = rt_xmalloc(r->ntasks);
    r->taddr = rt_xcalloc(r->ntasks, sizeof(*r->taddr));
    for (uint32_t t = 0; t < r->ntasks; t++)
        r->sources += is_source_task(r, t);
    r->next_chk = 1;
    uint32_t conc = j->cfg.max_concurrent ? j->cfg.max_concurrent : 1;
    r->pend = rt_xcalloc(conc, sizeof(*r->pend));
    for (uint32_t i = 0; i < conc; i++)
        r->pend[i].e = rt_xcalloc((size_t)r->ntasks * ENG_CHAIN_MAX, sizeof(*r->pend[i].e));
    r->done = rt_xcalloc(j->cfg.num_retained ? j->cfg.num_retained : 1, sizeof(*r->done));
    if (j->cfg.checkpoint_interval_ns)
        r->trigger_timer = rt_timer_start(r->self, j->cfg.checkpoint_interval_ns, TAG_TRIGGER);
    return r;
}

struct rt_actor *eng_jobrun_spawn(struct rt_node *n, struct eng_job *j,
                                  const struct eng_jobrun_policy *policy)
{
    struct jobrun *r = runner_new(n, j, policy);
    deploy_if_ready(r);
    return r->self;
}

struct rt_actor *eng_jobrun_spawn_restoring(struct rt_node *n, struct eng_job *j,
                                            const struct eng_jobrun_policy *policy,
                                            uint64_t checkpoint_id)
{
    struct jobrun *r = runner_new(n, j, policy);
    /* Whatever state the dead runner left the job in, it starts over here. */
    char why[128];
    if (checkpoint_id)
        snprintf(why, sizeof(why), "recovered by %s, restoring checkpoint %llu", rt_node_name(n),
                 (unsigned long long)checkpoint_id);
    else
        snprintf(why, sizeof(why), "recovered by %s, no checkpoint: starting afresh",
                 rt_node_name(n));
    set_state(r, ENG_JOB_CREATED, why);
    if (!checkpoint_id) {
        deploy_if_ready(r);
        return r->self;
    }
    char path[160];
    snprintf(path, sizeof(path), "%s/chk-%llu/_metadata", j->dir, (unsigned long long)checkpoint_id);
    struct dfs_req req = { .op = DFS_OP_READ, .path = path, .job = j->id,
                           .phase = DFS_PHASE_RESTORE, .cookie = (checkpoint_id << 4) | META_READ };
    dfs_submit(r->self, j->dfs, &req);
    return r->self;
}
