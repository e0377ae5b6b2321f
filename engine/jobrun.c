/*
 * jobrun.c - the job runner actor: deployment, checkpoint coordination and
 * task status for one job (see jobrun.h for the protocol; failover is in
 * jobrun_failover.c).  It runs on one node and is the only writer of its
 * job's attempts, counters and events.
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

#include "engine/jobrun_internal.h"
#include "engine/operator.h"
#include "runtime/dfs.h"

/* Metadata write stages, in the low bits of the DFS cookie. */
enum { META_WRITE = 1, META_FSYNC, META_RENAME, META_DELETE, META_READ };

void eng__jobrun_set_state(struct jobrun *r, enum eng_job_state st, const char *why)
{
    eng_job_set_state(r->job, st, now(r), why);
    rt_trace(rt_actor_world(r->self), rt_actor_node(r->self), "job_state",
             "\"job\":%u,\"state\":\"%s\"", r->job->id, eng_job_state_name(st));
    rt_world_notify(rt_actor_world(r->self));
    if (eng_job_state_is_terminal(st) &&
        r->pol.on_terminal)
        r->pol.on_terminal(r->pol.arg, st);
}

static bool is_source_task(struct jobrun *r, uint32_t t)
{
    const struct eng_execgraph *eg = r->job->eg;
    const struct eng_chain *c = eng_execgraph_chain(eg, eng_execgraph_task(eg, t)->chain);
    return eng_op_kind_is_source(eng_jobgraph_vertex(r->job->graph, c->ops[0])->kind);
}

static void delete_checkpoint(struct jobrun *r, uint64_t id)
{
    char prefix[160];
    snprintf(prefix, sizeof(prefix), "%s/chk-%llu/", r->job->dir, (unsigned long long)id);
    struct dfs_req req = { .op = DFS_OP_DELETE, .path = prefix, .flags = DFS_F_PREFIX,
                           .job = r->job->id, .phase = DFS_PHASE_CHECKPOINT,
                           .cookie = (id << 4) | META_DELETE };
    atomic_fetch_add(&r->job->deletes_pending, 1);
    dfs_submit(r->self, r->job->dfs, &req);
}

/* ---- which checkpoints' files are still needed ----------------------------- *
 *
 * With incremental checkpoints a state file refers to earlier files of its
 * subtask (eng_meta_entry.refs), so a checkpoint no longer retained keeps
 * its directory while a retained one refers to it - or a pending one may:
 * a pending checkpoint's snapshots refer only to files of its base (the
 * latest completed checkpoint when it was triggered) and what the base
 * refers to, which the trigger records.  The metadata of a checkpoint kept
 * this way stays too; nothing restores it, as nothing names it. */

static bool refers_to(const struct eng_meta_entry *e, uint32_t n, uint64_t id)
{
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < e[i].n_refs; k++)
            if (e[i].refs[k].checkpoint_id == id)
                return true;
    return false;
}

static bool still_needed(const struct jobrun *r, uint64_t id)
{
    for (uint32_t i = 0; i < r->ndone; i++)
        if (r->done[i].id == id || refers_to(r->done[i].e, r->done[i].n, id))
            return true;
    for (uint32_t i = 0; i < (r->job->cfg.max_concurrent ? r->job->cfg.max_concurrent : 1); i++)
        for (uint32_t k = 0; r->pend[i].id && k < r->pend[i].nbase; k++)
            if (r->pend[i].base_ids[k] == id)
                return true;
    return false;
}

/* Deletes the checkpoints subsumed before the announced one that nothing
 * needs any more. */
static void collect_subsumed(struct jobrun *r)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->nsubsumed; i++) {
        if (r->subsumed[i] < r->announced && !still_needed(r, r->subsumed[i]))
            delete_checkpoint(r, r->subsumed[i]);
        else
            r->subsumed[k++] = r->subsumed[i];
    }
    r->nsubsumed = k;
}

static void add_base_id(struct pending *p, uint64_t id)
{
    for (uint32_t i = 0; i < p->nbase; i++)
        if (p->base_ids[i] == id)
            return;
    if (p->nbase == p->capbase) {
        p->capbase = p->capbase ? 2 * p->capbase : 8;
        p->base_ids = rt_xrealloc(p->base_ids, p->capbase * sizeof(*p->base_ids));
    }
    p->base_ids[p->nbase++] = id;
}

/* Publishes pending checkpoint p's end (see struct eng_checkpoint_stat). */
static void publish_stat(struct jobrun *r, const struct pending *p, const char *failure)
{
    /* Process memory: the job outlives the runner's node. */
    struct eng_checkpoint_stat *cs = rt_xcalloc_process(1, sizeof(*cs));
    cs->id = p->id;
    cs->trigger_ns = p->ts_ms * RT_NS_PER_MS;
    cs->end_ns = now(r);
    for (uint32_t i = 0; i < p->n; i++)
        cs->bytes += p->e[i].size;
    cs->acks = p->acks;
    cs->tasks = r->ntasks;
    cs->completed = !failure;
    snprintf(cs->failure, sizeof(cs->failure), "%s", failure ? failure : "");
    cs->next = atomic_load_explicit(&r->job->checkpoint_stats, memory_order_relaxed);
    atomic_store_explicit(&r->job->checkpoint_stats, cs, memory_order_release);
    atomic_fetch_sub(&r->job->checkpoints_in_progress, 1);
}

void eng__jobrun_abort_pending(struct jobrun *r, struct pending *p, const char *why)
{
    if (!p->id)
        return;
    publish_stat(r, p, why);
    atomic_fetch_add(&r->job->checkpoints_failed, 1);
    eng_job_event(r->job, now(r), "checkpoint %llu failed: %s", (unsigned long long)p->id, why);
    if (p->timeout_timer)
        rt_timer_cancel(r->self, p->timeout_timer);
    delete_checkpoint(r, p->id);
    p->id = 0;
    collect_subsumed(r);
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
    uint32_t slots = j->cfg.chan_slots ? j->cfg.chan_slots
                     : rt_world_kind(rt_actor_world(r->self)) == RT_WORLD_SIM ? ENG_CHAN_SLOTS_SIM
                                                                             : ENG_CHAN_SLOTS;
    for (uint32_t c = 0; c < a->nchans; c++) {
        const struct eng_channel *ch = eng_execgraph_channel(j->eg, c);
        a->owns[c] = !r->att || r->restart[ch->producer] || r->restart[ch->consumer];
        a->chans[c] = a->owns[c] ? eng_chan_new(c, slots) : r->att->chans[c];
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
        /* Local recovery: the TaskManager it goes to holds the copy its
         * snapshot left there, if the owner says so. */
        d.restore_local = from && d.n_restore && j->cfg.local_recovery && from->local_ok &&
                          r->pol.local && r->pol.local(r->pol.arg, t, from->attempt);
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
    atomic_fetch_add(&r->job->checkpoints_in_progress, 1);
    p->final = final;
    p->acks = p->n = 0;
    p->base = 0;
    p->nbase = 0;
    if (r->job->cfg.incremental && r->ndone) {
        const struct completed *b = &r->done[r->ndone - 1];
        p->base = b->id;
        add_base_id(p, b->id);
        for (uint32_t i = 0; i < b->n; i++)
            for (uint32_t k = 0; k < b->e[i].n_refs; k++)
                add_base_id(p, b->e[i].refs[k].checkpoint_id);
    }
    if (final)
        r->final_triggered = true;
    uint64_t tmo = r->job->cfg.checkpoint_timeout_ns;
    p->timeout_timer = rt_timer_start(r->self, tmo, TAG_TIMEOUT_BASE + p->id);
    struct eng_trigger tr = { .checkpoint_id = p->id, .base = p->base, .timestamp_ms = p->ts_ms,
                              .final = final };
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

static void checkpoint_failed(struct jobrun *r, struct pending *p, const char *why)
{
    bool final = p->final;
    eng__jobrun_abort_pending(r, p, why);
    if (final) {
        r->final_triggered = false;
        eng__jobrun_fail_job(r, "the final checkpoint failed");
        return;
    }
    if (++r->consecutive_failed > r->job->cfg.tolerable_failed)
        eng__jobrun_fail_job(r, "Exceeded checkpoint tolerable failure threshold.");
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
    collect_subsumed(r);
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
    c->attempt = r->attempt;
    c->local_ok = true;
    c->e = rt_xmalloc((p->n ? p->n : 1) * sizeof(*c->e));
    memcpy(c->e, p->e, p->n * sizeof(*c->e));
    rt_timer_cancel(r->self, p->timeout_timer);
    publish_stat(r, p, NULL);
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
        eng__jobrun_set_state(r, ENG_JOB_FAILED, why);
        return;
    }
    struct completed *c = &r->done[r->ndone++];
    c->id = id;
    c->n = meta.n_entries;
    c->attempt = 0;
    c->local_ok = false;        /* another leader's tasks wrote it: no local copy known */
    c->e = rt_xmalloc((c->n ? c->n : 1) * sizeof(*c->e));
    memcpy(c->e, meta.entries, c->n * sizeof(*c->e));
    eng_meta_release(&meta);
    /* The checkpoints it refers to are subsumed ones the dead runner kept
     * for it: delete them once nothing needs them. */
    for (uint32_t i = 0; i < c->n; i++)
        for (uint32_t k = 0; k < c->e[i].n_refs; k++) {
            uint64_t ref = c->e[i].refs[k].checkpoint_id;
            bool known = false;
            for (uint32_t x = 0; x < r->nsubsumed && !known; x++)
                known = r->subsumed[x] == ref;
            if (known)
                continue;
            r->subsumed = rt_xrealloc(r->subsumed, (r->nsubsumed + 1) * sizeof(*r->subsumed));
            r->subsumed[r->nsubsumed++] = ref;
        }
    r->next_chk = id + 1;
    r->announced = id;
    deploy_if_ready(r);
}

static void on_meta_io(struct jobrun *r, const struct dfs_done *d, const void *payload)
{
    uint64_t id = d->cookie >> 4;
    unsigned stage = (unsigned)(d->cookie & 0xf);
    if (stage == META_DELETE) {
        atomic_fetch_sub(&r->job->deletes_pending, 1);
        rt_world_notify(rt_actor_world(r->self));
        return;
    }
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

/* ---- task status ------------------------------------------------------------ */

static void on_status(struct jobrun *r, const struct rt_msg *m)
{
    const struct eng_task_status *s = m->data;
    if (m->len != sizeof(*s) || s->task >= r->ntasks)
        return;
    if (s->state == ENG_TASK_FAILED && s->restore_failed && s->attempt == r->tattempt[s->task]) {
        /* Before the check below: the task may already be told to restart
         * - another task's failure, caused by this one, can come first - but
         * the checkpoint it could not read must still be given up. */
        char why[256];
        snprintf(why, sizeof(why), "task %u: %s", s->task, s->reason);
        eng__jobrun_fall_back(r, s->restore_checkpoint, why);
    }
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
            eng__jobrun_set_state(r, ENG_JOB_RUNNING, NULL);
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
            eng__jobrun_set_state(r, ENG_JOB_FINISHED, NULL);
        }
        break;
    case ENG_TASK_FAILED: {
        char why[256];
        snprintf(why, sizeof(why), "task %u: %s", s->task, s->reason);
        r->taddr[s->task] = 0;      /* gone: nothing to cancel */
        eng__jobrun_failover(r, &s->task, 1, why, s->restore_failed);
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
        eng__jobrun_set_state(r, ENG_JOB_CREATED, NULL);
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
    eng__jobrun_failover(r, f->tasks, f->n, why, false);
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
        eng__jobrun_fail_job(r, why);
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
            eng__jobrun_cancel_task(r, t);
        eng__jobrun_set_state(r, ENG_JOB_CANCELED, NULL);
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
    eng__jobrun_set_state(r, ENG_JOB_CREATED, why);
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
