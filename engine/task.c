/*
 * task.c - a task: one parallel instance of a chain of operators, as an actor.
 *
 * Mailbox model.  A task never loops until its input is gone: each step
 * handles at most STEP_BATCHES batches and, if there is more, sends itself
 * ENG_MSG_TASK_STEP, so triggers, notifications, cancels and timers get their
 * turn in between.  It wakes on ENG_MSG_CHAN_WAKE (input arrived, or an output
 * has room again), on its rate-limit or stall timer, and on control messages.
 *
 * Output.  Records leave the chain into the open (claimed, unpublished) slot
 * of the channel the partitioner picks; a full slot is published and the
 * next claimed.  When a channel's ring is full the rest of the chain's output
 * waits in `pend` and the task takes no more input until a slot frees up:
 * that is back pressure, and it bounds memory whatever the speed of the
 * consumer.  Partially filled slots are published when the task runs out of
 * work, so a trickle of records still flows.
 *
 * Checkpoints (aligned, exactly-once).  A source snapshots when the runner
 * triggers it and then emits the barrier.  Other tasks, on barrier n from
 * one input, stop reading that input until barrier n has come from every
 * input; then they snapshot and emit barrier n.  A snapshot takes a frozen
 * copy of each operator's keyed state (the table copied, the blobs shared)
 * and the task goes on; the files are encoded from the copies on the
 * node's worker thread (rt_actor_offload; at once in the sim world), then
 * written and fsynced to the DFS; the ack with the files' names and
 * checksums goes to the runner only when every file is durable.
 *
 * End of input.  After the runner's final checkpoint a source emits END; a
 * task forwards END once all its inputs ended, and finishes when the final
 * checkpoint has been confirmed (so the sink has committed everything).
 *
 * Liveness.  While it runs, a task checks every LIVENESS_NS that the tasks
 * at the other end of its channels are alive and reachable, as a network
 * connection would notice, and fails with the cause when one is not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fiu.h>

#include "engine/kstate.h"
#include "engine/task_internal.h"
#include "runtime/dfs.h"

static struct rt_world *W(struct task *k) { return rt_actor_world(k->self); }

/* Tells the runner the task's state (or, for INPUT_ENDED, an event: the
 * source is done but the task keeps running until the final checkpoint). */
static void report_as(struct task *k, enum eng_task_state st, bool restore_failed,
                      const char *reason)
{
    struct eng_task_status s = { .task = k->id, .attempt = k->attempt, .state = st,
                                 .restore_failed = restore_failed,
                                 .restore_checkpoint = k->restore_chk,
                                 .records_in = k->records_in, .records_out = k->records_out };
    if (reason)
        snprintf(s.reason, sizeof(s.reason), "%s", reason);
    rt_send(k->self, k->runner, ENG_MSG_TASK_STATUS, &s, sizeof(s));
}

static void report(struct task *k, bool restore_failed, const char *reason)
{
    report_as(k, k->st, restore_failed, reason);
}

static void free_restoring(struct task *k)
{
    for (uint32_t i = 0; i < k->nrs; i++)
        for (uint32_t f = 0; f <= ENG_SNAP_REFS_MAX; f++)
            rt_free(k->rs[i].buf[f]);
    rt_free(k->rs);
    k->rs = NULL;
    k->nrs = 0;
}

static void release_all(struct task *k)
{
    for (uint32_t i = 0; i < k->nops; i++)
        eng_op_free(k->ops[i]);
    k->nops = 0;
    for (int i = 0; i < 2; i++)
        eng_rvec_free(&k->buf[i]);
    eng_rvec_free(&k->pend);
    eng_rvec_free(&k->stall_in);
    for (uint32_t e = 0; e < k->nout; e++) {
        rt_free(k->out[e].ch);
        rt_free(k->out[e].open);
    }
    rt_free(k->out);
    rt_free(k->in);
    free_restoring(k);
    rt_free(k->recs);
    struct rt_actor *self = k->self;
    rt_free(k);
    rt_actor_exit(self);
}

/* Ends the task: the runner hears why; channels break so that the tasks at
 * the other ends stop waiting on us. */
void eng__task_fail(struct task *k, bool restore, const char *fmt, ...)
{
    char reason[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    k->st = ENG_TASK_FAILED;
    eng__task_time(k, ENG_TASK_TIME_ENDED);
    rt_trace(W(k), rt_actor_node(k->self), "task_failed",
             "\"job\":%u,\"task\":%u,\"attempt\":%u", k->job->id, k->id, k->attempt);
    report(k, restore, reason);
    char cause[192];
    snprintf(cause, sizeof(cause), "task %u failed: %.160s", k->id, reason);
    for (uint32_t i = 0; i < k->nin; i++)
        eng_chan_break(k->in[i].c, cause);
    for (uint32_t e = 0; e < k->nout; e++)
        for (uint32_t c = 0; c < k->out[e].nch; c++)
            eng_chan_break(k->out[e].ch[c], cause);
    release_all(k);
}

static void schedule(struct task *k)
{
    if (k->step_queued)
        return;
    k->step_queued = true;
    rt_send(k->self, rt_actor_addr(k->self), ENG_MSG_TASK_STEP, NULL, 0);
}

/* ---- the chain -------------------------------------------------------------- */

/* Runs records through operators from..nops-1; the result goes to pend.
 * Returns 0, ENG_PROCESS_STALL (the task stalls; the input is kept), or -1 after
 * failing the task. */
static int run_chain(struct task *k, uint32_t from, const struct eng_record *in, uint32_t n)
{
    if (from == k->nops) {
        /* Nothing after the source in this chain: its batch is the output. */
        memcpy(eng_rvec_extend(&k->pend, n), in, n * sizeof(*in));
        return 0;
    }
    for (uint32_t i = from; i < k->nops; i++) {
        struct eng_rvec *out = i + 1 == k->nops ? &k->pend : &k->buf[i % 2];
        if (out != &k->pend)
            out->n = 0;
        uint64_t stall_ns = 0;
        int rc = k->ops[i]->ops->process(k->ops[i], in, n, out, &stall_ns);
        if (rc == ENG_PROCESS_STALL) {
            k->stall_in.n = 0;
            for (uint32_t r = 0; r < n; r++)
                eng_rvec_push(&k->stall_in, &in[r]);
            k->stall_op = i;
            k->stalled = true;
            rt_timer_start(k->self, stall_ns, TAG_STALL_END);
            return ENG_PROCESS_STALL;
        }
        if (rc < 0) {
            eng__task_fail(k, false, "operator %s (subtask %u) failed: %s",
                      k->ops[i]->vertex->name, k->t->subtask, eng_op_error(k->ops[i]));
            return -1;
        }
        in = out->rec;
        n = out->n;
    }
    return 0;
}

/* ---- time: busy, idle, back-pressured --------------------------------------- */

static void publish_time(struct task *k)
{
    struct eng_task_io *io = &k->job->task_io[k->id];
    if (atomic_load_explicit(&io->attempt, memory_order_relaxed) != k->attempt)
        return;
    atomic_store_explicit(&io->idle_ns, k->t_idle, memory_order_relaxed);
    atomic_store_explicit(&io->bp_ns, k->t_bp, memory_order_relaxed);
    atomic_store_explicit(&io->since_ns, k->tsince, memory_order_relaxed);
    atomic_store_explicit(&io->time_mode, k->tmode, memory_order_release);
}

void eng__task_time_start(struct task *k)
{
    k->tmode = ENG_TASK_TIME_BUSY;
    k->tsince = rt_now(W(k));
    k->t_idle = k->t_bp = 0;
    struct eng_task_io *io = &k->job->task_io[k->id];
    if (atomic_load_explicit(&io->attempt, memory_order_relaxed) == k->attempt)
        atomic_store_explicit(&io->run_ns, k->tsince, memory_order_relaxed);
    publish_time(k);
}

void eng__task_time_change(struct task *k, enum eng_task_time mode)
{
    uint64_t now = rt_now(W(k));
    if (k->tmode == ENG_TASK_TIME_IDLE)
        k->t_idle += now - k->tsince;
    else if (k->tmode == ENG_TASK_TIME_BP)
        k->t_bp += now - k->tsince;
    k->tmode = (uint8_t)mode;
    k->tsince = now;
    publish_time(k);
}

/* ---- finishing -------------------------------------------------------------- */

static void finish(struct task *k)
{
    k->st = ENG_TASK_FINISHED;
    eng__task_time(k, ENG_TASK_TIME_ENDED);
    report(k, false, NULL);
    release_all(k);
}

/* The task's input is over and its end has gone downstream. */
static void ended(struct task *k)
{
    k->st = ENG_TASK_ENDED;
    eng__task_time(k, ENG_TASK_TIME_IDLE);     /* waiting for the final checkpoint */
    if (k->last_notified >= k->last_barrier)
        finish(k);
}

/* Sends END down every channel, or queues it behind what waits for room (a
 * barrier, a full ring): the task is back-pressured until it has gone out
 * (step, through eng__task_unblock). */
static void send_end(struct task *k)
{
    if (!k->pend_barrier && eng__task_emit_control(k, ENG_SLOT_END, 0)) {
        ended(k);
        return;
    }
    k->pend_end = true;
    k->end_queued = true;
    eng__task_time(k, ENG_TASK_TIME_BP);
}

static void on_input_end(struct task *k, uint32_t port)
{
    k->in[port].ended = true;
    for (uint32_t i = 0; i < k->nin; i++)
        if (!k->in[i].ended)
            return;
    send_end(k);
}

/* ---- the step --------------------------------------------------------------- */

static bool check_links(struct task *k)
{
    for (uint32_t i = 0; i < k->nin; i++)
        if (!eng_chan_check_peer(k->in[i].c, k->self, atomic_load(&k->in[i].c->producer)))
            goto broken;
    for (uint32_t e = 0; e < k->nout; e++)
        for (uint32_t c = 0; c < k->out[e].nch; c++)
            if (!eng_chan_check_peer(k->out[e].ch[c], k->self,
                                     atomic_load(&k->out[e].ch[c]->consumer)))
                goto broken;
    return true;
broken:
    for (uint32_t i = 0; i < k->nin; i++)
        if (eng_chan_is_broken(k->in[i].c)) {
            eng__task_fail(k, false, "%s", k->in[i].c->cause);
            return false;
        }
    for (uint32_t e = 0; e < k->nout; e++)
        for (uint32_t c = 0; c < k->out[e].nch; c++)
            if (eng_chan_is_broken(k->out[e].ch[c])) {
                eng__task_fail(k, false, "%s", k->out[e].ch[c]->cause);
                return false;
            }
    return false;
}

static void step(struct task *k)
{
    k->step_queued = false;
    if (k->st != ENG_TASK_RUNNING || k->stalled)
        return;
    if (fiu_fail("task/process")) {     /* injected fault: see struct eng_fail_point */
        const struct eng_fail_point *fp = fiu_failinfo();
        if (fp && (fp->any_task || (fp->job == k->job->id && fp->subtask == k->t->subtask)) &&
            (fp->at_record == 0 || k->records_in >= fp->at_record)) {
            eng__task_fail(k, false, "injected failure (task/process) at record %llu",
                           (unsigned long long)k->records_in);
            return;
        }
    }
    if (!check_links(k))
        return;
    if (!eng__task_unblock(k)) {
        eng__task_time(k, ENG_TASK_TIME_BP);
        return;     /* a consumer's credit wakes us */
    }
    eng__task_time(k, ENG_TASK_TIME_BUSY);
    if (k->end_queued) {
        ended(k);   /* the deferred END has gone out */
        return;
    }
    int work = 0;
    while (work < STEP_BATCHES) {
        if (k->is_source) {
            if (k->src_ended || k->src_timer)
                break;
            uint64_t wake_at = 0;
            struct eng_batch *direct = eng__task_direct_batch(k);
            struct eng_batch *into = direct ? direct : &k->src;
            into->n = 0;
            enum eng_src_status s = k->ops[0]->ops->produce(k->ops[0], rt_now(W(k)), into,
                                                            &wake_at);
            if (s == ENG_SRC_WAIT) {
                uint64_t now = rt_now(W(k));
                rt_timer_start(k->self, wake_at > now ? wake_at - now : 0, TAG_SOURCE_WAKE);
                k->src_timer = true;
                break;
            }
            if (s == ENG_SRC_ERROR) {
                eng__task_fail(k, false, "operator %s (subtask %u) failed: %s",
                               k->ops[0]->vertex->name, k->t->subtask, eng_op_error(k->ops[0]));
                return;
            }
            if (s == ENG_SRC_END) {
                k->src_ended = true;
                report_as(k, ENG_TASK_INPUT_ENDED, false, NULL);
                break;
            }
            k->records_in += into->n;
            atomic_fetch_add_explicit(&k->job->records_in, into->n, memory_order_relaxed);
            eng__task_io(k);
            work++;
            if (direct) {
                eng__task_direct_done(k);
                continue;
            }
            if (run_chain(k, 1, k->src.rec, k->src.n) != 0)
                return;
            if (!eng__task_route_pending(k)) {
                eng__task_time(k, ENG_TASK_TIME_BP);
                return;
            }
            continue;
        }
        bool progressed = false;
        for (uint32_t step_i = 0; step_i < k->nin && work < STEP_BATCHES; step_i++) {
            uint32_t p = (k->next_in + step_i) % k->nin;
            struct in_port *in = &k->in[p];
            if (in->ended || (k->align_chk && in->aligned == k->align_chk))
                continue;
            struct eng_slot *s = eng_chan_peek(in->c);
            if (!s)
                continue;
            progressed = true;
            work++;
            if (s->kind == ENG_SLOT_DATA) {
                k->records_in += s->batch.n;
                eng__task_io(k);
                if (k->is_sink)
                    atomic_fetch_add_explicit(&k->job->records_out, s->batch.n,
                                              memory_order_relaxed);
                int rc = run_chain(k, 0, s->batch.rec, s->batch.n);
                if (rc < 0)
                    return;     /* the task is gone */
                eng_chan_release(in->c, k->self);
                if (rc == ENG_PROCESS_STALL)
                    return;     /* the operator is at work: busy */
                if (!eng__task_route_pending(k)) {
                    eng__task_time(k, ENG_TASK_TIME_BP);
                    return;
                }
            } else if (s->kind == ENG_SLOT_BARRIER) {
                uint64_t chk = s->checkpoint_id, base = s->base;
                eng_chan_release(in->c, k->self);
                eng__task_on_barrier(k, p, chk, base);
            } else {
                eng_chan_release(in->c, k->self);
                on_input_end(k, p);
            }
            if (k->st != ENG_TASK_RUNNING || k->pend_barrier || k->pend_end)
                return;
        }
        k->next_in = (k->next_in + 1) % (k->nin ? k->nin : 1);
        if (!progressed)
            break;
    }
    if (work == STEP_BATCHES) {
        schedule(k);    /* more to do: yield to the mailbox first */
    } else {
        eng__task_flush_open(k);  /* out of input: let partial batches go */
        eng__task_time(k, ENG_TASK_TIME_IDLE);
    }
}

/* ---- restore ---------------------------------------------------------------- */

/* Decodes one operator's state file - and the files it refers to, in
 * rs->buf[1..] - into it. */
static void restore_op(struct task *k, struct eng_op *op, const struct restoring *rs,
                       const void *data, size_t len)
{
    char path[64], what[ENG_SNAP_REFS_MAX][64];
    snprintf(path, sizeof(path), "chk-%llu of %s", (unsigned long long)k->restore_chk,
             op->vertex->name);
    struct eng_snap_file files[ENG_SNAP_REFS_MAX];
    for (uint32_t i = 0; i < rs->e.n_refs; i++) {
        uint64_t id = rs->e.refs[i].checkpoint_id;
        snprintf(what[i], sizeof(what[i]), "chk-%llu of %s", (unsigned long long)id,
                 op->vertex->name);
        files[i] = (struct eng_snap_file){ id, rs->buf[i + 1], rs->len[i + 1], what[i],
                                           rs->payload[i + 1] };
    }
    struct eng_snap_state st;
    char err[224];
    uint32_t kg_first, kg_last;
    eng_key_group_range(op->env.subtask, op->env.parallelism, op->env.max_parallelism,
                        &kg_first, &kg_last);
    int rc = eng_snapshot_decode_refs(data, len, path, kg_first, kg_last, op->kstate, files,
                                      rs->e.n_refs, &st, err, sizeof(err));
    if (rc < 0) {
        eng__task_fail(k, true, "restore from checkpoint %llu: %s",
                  (unsigned long long)k->restore_chk, err);
        return;
    }
    rc = op->ops->restore ? op->ops->restore(op, &st) : 0;
    eng_snap_state_release(&st);
    if (rc < 0) {
        eng__task_fail(k, true, "restore of %s: %s", op->vertex->name, eng_op_error(op));
        return;
    }
    if (--k->restore_left == 0) {
        free_restoring(k);
        k->st = ENG_TASK_RUNNING;
        eng__task_time_start(k);
        report(k, false, NULL);
        rt_timer_start(k->self, LIVENESS_NS, TAG_LIVENESS);
        schedule(k);
    }
}

/* Checks what a read of file f (0: the state file, i: its reference i)
 * delivered against the size and checksum the checkpoint lists for it:
 * every logical byte present (a partial write shows here) and, for a
 * payload carried as a descriptor, its sum as the file's checksum defines
 * it (a flipped payload byte shows here; a flipped data byte fails the
 * file's own checksum when it is decoded).  Fails the task like a corrupt
 * state file when not. */
static bool payload_ok(struct task *k, struct eng_op *op, struct restoring *rs, uint32_t f,
                       const struct dfs_done *d)
{
    uint64_t size = f ? rs->e.refs[f - 1].size : rs->e.size;
    uint64_t sum = f ? rs->e.refs[f - 1].checksum : rs->e.checksum;
    uint64_t chk = f ? rs->e.refs[f - 1].checkpoint_id : k->restore_chk;
    if (d->bytes + d->logical != size) {
        eng__task_fail(k, true,
                       "restore from checkpoint %llu: state of %s (checkpoint %llu): "
                       "truncated: %llu bytes of the %llu listed",
                       (unsigned long long)k->restore_chk, op->vertex->name,
                       (unsigned long long)chk, (unsigned long long)(d->bytes + d->logical),
                       (unsigned long long)size);
        return false;
    }
    if (d->logical && d->logical_sum != dfs_payload_sum(sum, 0, d->logical)) {
        eng__task_fail(k, true,
                       "restore from checkpoint %llu: state of %s (checkpoint %llu): "
                       "payload checksum mismatch: expected 0x%016llx, got 0x%016llx",
                       (unsigned long long)k->restore_chk, op->vertex->name,
                       (unsigned long long)chk,
                       (unsigned long long)dfs_payload_sum(sum, 0, d->logical),
                       (unsigned long long)d->logical_sum);
        return false;
    }
    rs->payload[f] = d->logical;
    return true;
}

/* A file of a restore has been read: cookie = restoring index, and which
 * of its files (0: the state file, i: its reference i) above 32 bits. */
static void on_restore_read(struct task *k, const struct dfs_done *d, const void *data)
{
    uint32_t r = (uint32_t)d->cookie, f = (uint32_t)(d->cookie >> 32);
    if (k->st != ENG_TASK_DEPLOYING || r >= k->nrs)
        return;
    struct restoring *rs = &k->rs[r];
    struct eng_op *op = NULL;
    for (uint32_t j = 0; j < k->nops; j++)
        if (k->ops[j]->env.vertex == rs->e.vertex)
            op = k->ops[j];
    if (!op) {
        eng__task_fail(k, true, "restore: no operator for vertex %u", rs->e.vertex);
        return;
    }
    if (d->status < 0) {
        /* Only a missing file condemns the checkpoint; an I/O error may pass,
         * and dropping a checkpoint whose transactions the sink committed
         * would replay them: retry it instead. */
        char which[48] = "";
        if (f)
            snprintf(which, sizeof(which), " (checkpoint %llu's file, which it refers to)",
                     (unsigned long long)rs->e.refs[f - 1].checkpoint_id);
        eng__task_fail(k, d->status == -ENOENT,
                       "restore from checkpoint %llu: reading state of %s%s: %s",
                       (unsigned long long)k->restore_chk, op->vertex->name, which,
                       strerror(-d->status));
        return;
    }
    if (!payload_ok(k, op, rs, f, d))
        return;
    if (!rs->e.n_refs) {
        restore_op(k, op, rs, data, d->bytes);  /* the common case: no copy */
        return;
    }
    /* Keep each file until all of them are here. */
    rs->buf[f] = rt_xmalloc(d->bytes ? d->bytes : 1);
    memcpy(rs->buf[f], data, d->bytes);
    rs->len[f] = d->bytes;
    if (--rs->left == 0)
        restore_op(k, op, rs, rs->buf[0], rs->len[0]);
}

/* ---- messages --------------------------------------------------------------- */

static void on_timer(struct task *k, const struct rt_timer_fire *f)
{
    switch (f->tag) {
    case TAG_SOURCE_WAKE:
        k->src_timer = false;
        schedule(k);
        break;
    case TAG_STALL_END:
        k->stalled = false;
        if (run_chain(k, k->stall_op, k->stall_in.rec, k->stall_in.n) == 0) {
            if (eng__task_route_pending(k))
                schedule(k);
            else
                eng__task_time(k, ENG_TASK_TIME_BP);
        }
        break;
    case TAG_LIVENESS:
        if (k->st == ENG_TASK_RUNNING && check_links(k))
            rt_timer_start(k->self, LIVENESS_NS, TAG_LIVENESS);
        break;
    }
}

static void task_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct task *k = rt_actor_state(a);
    switch (m->type) {
    case ENG_MSG_CHAN_WAKE:
    case ENG_MSG_TASK_STEP:
        if (m->type == ENG_MSG_TASK_STEP)
            k->step_queued = false;
        step(k);
        break;
    case RT_MSG_TIMER:
        on_timer(k, m->data);
        break;
    case ENG_MSG_TRIGGER: {
        const struct eng_trigger *t = m->data;
        if (t->attempt != k->attempt || k->st != ENG_TASK_RUNNING || !k->is_source)
            break;
        if (k->pend_barrier || k->pend_end) {
            struct snap_job tmp = { .chk = t->checkpoint_id, .failed = true };
            snprintf(tmp.reason, sizeof(tmp.reason), "task %u is back-pressured", k->id);
            eng__task_snap_finish(k, &tmp);
            break;
        }
        eng__task_checkpoint_here(k, t->checkpoint_id, t->base);
        if (t->final) {
            k->src_ended = true;
            send_end(k);
        }
        break;
    }
    case ENG_MSG_NOTIFY: {
        const struct eng_notify *nt = m->data;
        if (nt->attempt != k->attempt)
            break;
        for (uint32_t i = 0; i < k->nops; i++)
            if (k->ops[i]->ops->notify_complete)
                k->ops[i]->ops->notify_complete(k->ops[i], nt->checkpoint_id);
        if (nt->checkpoint_id > k->last_notified)
            k->last_notified = nt->checkpoint_id;
        if (k->st == ENG_TASK_ENDED && k->last_notified >= k->last_barrier)
            finish(k);
        break;
    }
    case ENG_MSG_CANCEL:
        if (m->len != sizeof(k->attempt) || *(const uint32_t *)m->data != k->attempt)
            break;      /* meant for another attempt of this task */
        k->st = ENG_TASK_CANCELED;
        eng__task_time(k, ENG_TASK_TIME_ENDED);
        release_all(k);
        break;
    case DFS_MSG_DONE: {
        struct dfs_done d;
        const void *payload;
        if (dfs_done_parse(m, &d, &payload) < 0)
            break;
        if (d.op == DFS_OP_READ)
            on_restore_read(k, &d, payload);
        else
            eng__task_on_snapshot_io(k, &d);
        break;
    }
    }
}

static const struct rt_actor_ops task_ops = { "task", task_msg, NULL };

/* Builds the task's view of its channels: inputs, and outputs grouped by
 * job-graph edge with the consumer's partitioning figures. */
static void wire(struct task *k)
{
    const struct eng_execgraph *eg = k->job->eg;
    const uint32_t *inputs = eng_execgraph_inputs(eg);
    k->nin = k->t->n_in;
    k->in = rt_xcalloc(k->nin ? k->nin : 1, sizeof(*k->in));
    for (uint32_t i = 0; i < k->nin; i++) {
        k->in[i].c = k->att->chans[inputs[k->t->first_in + i]];
        atomic_store_explicit(&k->in[i].c->consumer, rt_actor_addr(k->self), memory_order_release);
    }
    k->out = rt_xcalloc(k->t->n_out ? k->t->n_out : 1, sizeof(*k->out));
    for (uint32_t i = 0; i < k->t->n_out; i++) {
        uint32_t cid = k->t->first_out + i;
        const struct eng_channel *ch = eng_execgraph_channel(eg, cid);
        struct out_edge *oe = NULL;
        for (uint32_t e = 0; e < k->nout; e++)
            if (k->out[e].kind == ch->kind && k->out[e].ch[0] &&
                eng_execgraph_channel(eg, k->out[e].ch[0]->id)->edge == ch->edge)
                oe = &k->out[e];
        if (!oe) {
            oe = &k->out[k->nout++];
            const struct eng_edge *ed = eng_jobgraph_edge(k->job->graph, ch->edge);
            const struct eng_vertex *v = eng_jobgraph_vertex(k->job->graph, ed->to);
            oe->kind = ch->kind;
            oe->par = v->parallelism;
            oe->maxp = v->max_parallelism;
            oe->nch = ch->kind == ENG_EDGE_FORWARD ? 1 : v->parallelism;
            oe->ch = rt_xcalloc(oe->nch, sizeof(*oe->ch));
            oe->open = rt_xcalloc(oe->nch, sizeof(*oe->open));
            oe->rr = k->t->subtask;     /* spread round-robin starts */
        }
        uint32_t slot = ch->kind == ENG_EDGE_FORWARD ? 0 : ch->consumer_subtask;
        oe->ch[slot] = k->att->chans[cid];
        atomic_store_explicit(&oe->ch[slot]->producer, rt_actor_addr(k->self), memory_order_release);
    }
}

struct rt_actor *eng_task_spawn(struct rt_node *n, const struct eng_deploy *d)
{
    struct task *k = rt_xcalloc(1, sizeof(*k));
    k->self = rt_actor_spawn(n, &task_ops, k);
    k->job = d->job;
    k->att = d->att;
    k->id = d->task;
    k->attempt = d->attempt;
    /* This attempt's counters start from 0; an older instance stops writing. */
    struct eng_task_io *io = &d->job->task_io[d->task];
    atomic_store_explicit(&io->attempt, d->attempt, memory_order_relaxed);
    atomic_store_explicit(&io->time_mode, ENG_TASK_TIME_NONE, memory_order_release);
    atomic_store_explicit(&io->records_in, 0, memory_order_relaxed);
    atomic_store_explicit(&io->records_out, 0, memory_order_relaxed);
    k->runner = d->runner;
    k->t = eng_execgraph_task(d->job->eg, d->task);
    k->chain = eng_execgraph_chain(d->job->eg, k->t->chain);
    k->restore_chk = d->restore_checkpoint;
    k->st = ENG_TASK_DEPLOYING;
    for (uint32_t i = 0; i < k->chain->n_ops; i++) {
        const struct eng_vertex *v = eng_jobgraph_vertex(d->job->graph, k->chain->ops[i]);
        struct eng_op_env env = { .job_id = d->job->id, .vertex = k->chain->ops[i],
                                  .subtask = k->t->subtask, .parallelism = v->parallelism,
                                  .max_parallelism = v->max_parallelism, .attempt = d->attempt,
                                  .node = n,
                                  .output = eng_op_kind_is_sink(v->kind) ? d->job->output : NULL };
        char err[160];
        struct eng_op *op = eng_op_new(v, &env, err, sizeof(err));
        if (!op) {
            wire(k);
            eng__task_fail(k, false, "cannot create operator %s: %s", v->name, err);
            return NULL;
        }
        k->ops[k->nops++] = op;
    }
    k->is_source = eng_op_kind_is_source(k->ops[0]->vertex->kind);
    k->is_sink = eng_op_kind_is_sink(k->ops[k->nops - 1]->vertex->kind);
    wire(k);
    rt_trace(rt_node_world(n), n, "task_deploy", "\"job\":%u,\"task\":%u,\"attempt\":%u,\"restore\":%llu",
             d->job->id, d->task, d->attempt, (unsigned long long)d->restore_checkpoint);
    if (d->job->cfg.incremental)
        k->recs = rt_xcalloc(SNAPS_MAX, sizeof(*k->recs));
    if (d->restore_checkpoint && d->n_restore) {
        k->rs = rt_xcalloc(d->n_restore, sizeof(*k->rs));
        k->nrs = d->n_restore;
        k->restore_left = d->n_restore;
        for (uint32_t i = 0; i < d->n_restore; i++) {
            struct restoring *rs = &k->rs[i];
            rs->e = d->restore[i];
            rs->e.n_refs = rs->e.n_refs <= ENG_SNAP_REFS_MAX ? rs->e.n_refs : ENG_SNAP_REFS_MAX;
            rs->left = 1 + rs->e.n_refs;
            for (uint32_t f = 0; f <= rs->e.n_refs; f++) {
                char path[ENG_SNAP_FILE_MAX];
                if (f)
                    eng__task_state_file(k, rs->e.refs[f - 1].checkpoint_id, rs->e.vertex,
                                         rs->e.subtask, path, sizeof(path));
                struct dfs_req req = { .op = DFS_OP_READ, .path = f ? path : rs->e.file,
                                       .job = d->job->id, .phase = DFS_PHASE_RESTORE,
                                       .cookie = ((uint64_t)f << 32) | i };
                /* RocksDB: every file of one operator's backend shares its
                 * transfer threads (the group: this task's chain entry). */
                req.part_size = d->job->cfg.restore_part_bytes;
                req.part_parallel = d->job->cfg.restore_threads;
                req.part_group = d->task * ENG_CHAIN_MAX + i;
                if (d->restore_local)
                    req.flags |= DFS_F_LOCAL;
                uint64_t size = f ? rs->e.refs[f - 1].size : rs->e.size;
                if (size < d->job->cfg.inline_bytes)
                    req.flags |= DFS_F_INLINE;  /* it came inside _metadata */
                dfs_submit(k->self, d->job->dfs, &req);
            }
        }
        return k->self;
    }
    k->st = ENG_TASK_RUNNING;
    eng__task_time_start(k);
    report(k, false, NULL);
    rt_timer_start(k->self, LIVENESS_NS, TAG_LIVENESS);
    schedule(k);
    return k->self;
}

/* ---- the minimal task host -------------------------------------------------- */

static void host_msg(struct rt_actor *a, const struct rt_msg *m)
{
    if (m->type == ENG_MSG_DEPLOY && m->len == sizeof(struct eng_deploy))
        eng_task_spawn(rt_actor_node(a), m->data);
}

static const struct rt_actor_ops host_ops = { "taskhost", host_msg, NULL };

struct rt_actor *eng_taskhost_spawn(struct rt_node *n)
{
    return rt_actor_spawn(n, &host_ops, NULL);
}
