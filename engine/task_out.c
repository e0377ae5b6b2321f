/*
 * task_out.c - a task's output side: routing records to channel slots by
 * partitioner, control slots (barrier, end) behind the data, and snapshots
 * written to the DFS and acknowledged once durable.  See task.c for the
 * design of the whole task.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/kstate.h"
#include "engine/task_internal.h"
#include "runtime/dfs.h"

/* ---- output ----------------------------------------------------------------- */

static void publish(struct task *k, struct out_edge *oe, uint32_t c)
{
    struct eng_slot *s = oe->open[c];
    oe->open[c] = NULL;
    if (s->kind == ENG_SLOT_DATA) {
        k->records_out += s->batch.n;
        eng__task_io(k);
    }
    eng_chan_publish(oe->ch[c], k->self);
}

/* Makes sure channel c of oe has an open data slot with room for a record.
 * False when its ring is full (or a control slot waits there). */
static bool room(struct task *k, struct out_edge *oe, uint32_t c)
{
    struct eng_slot *s = oe->open[c];
    if (s && s->kind != ENG_SLOT_DATA)
        return false;
    if (s && s->batch.n < ENG_BATCH_CAP)
        return true;
    if (s)
        publish(k, oe, c);
    s = eng_chan_claim(oe->ch[c]);
    if (!s)
        return false;
    s->kind = ENG_SLOT_DATA;
    s->batch.n = 0;
    oe->open[c] = s;
    return true;
}

/* The channel of oe that record r goes to (not for BROADCAST). */
static uint32_t target(const struct out_edge *oe, const struct eng_record *r)
{
    switch (oe->kind) {
    case ENG_EDGE_HASH: {
        /* One consumer takes every key: no hash needed (key group * 1 /
         * maxp is 0 for every key group). */
        if (oe->par == 1)
            return 0;
        uint32_t kg = eng_key_group(r->key, oe->maxp);
        /* kg * par / maxp, as eng_key_group_subtask, with a shift for a
         * power-of-two maxp (the default) instead of a division. */
        uint64_t scaled = (uint64_t)kg * oe->par;
        if ((oe->maxp & (oe->maxp - 1)) == 0)
            return (uint32_t)(scaled >> __builtin_ctz(oe->maxp));
        return (uint32_t)(scaled / oe->maxp);
    }
    case ENG_EDGE_REBALANCE:
        return oe->rr % oe->nch;
    default:
        return 0;
    }
}

/* Room for r on every channel it goes to, over all out edges. */
static bool room_for(struct task *k, const struct eng_record *r)
{
    for (uint32_t e = 0; e < k->nout; e++) {
        struct out_edge *oe = &k->out[e];
        if (oe->kind == ENG_EDGE_BROADCAST) {
            for (uint32_t c = 0; c < oe->nch; c++)
                if (!room(k, oe, c))
                    return false;
        } else if (!room(k, oe, target(oe, r))) {
            return false;
        }
    }
    return true;
}

/*
 * The common case, one output edge that sends each record to one channel,
 * without the per-record walk over edges: records are copied a slot's worth
 * at a time where one channel takes them all, and appended to the open slot
 * of their target otherwise.  Returns false when a ring is full; the rest
 * stays in pend.
 */
static bool route_single(struct task *k, struct out_edge *oe)
{
    const struct eng_record *rec = k->pend.rec;
    uint32_t i = k->pend_off, n = k->pend.n;
    if (oe->nch == 1) {
        while (i < n) {
            if (!room(k, oe, 0)) {
                k->pend_off = i;
                return false;
            }
            struct eng_batch *b = &oe->open[0]->batch;
            uint32_t take = ENG_BATCH_CAP - b->n < n - i ? ENG_BATCH_CAP - b->n : n - i;
            memcpy(b->rec + b->n, rec + i, take * sizeof(*rec));
            b->n += take;
            i += take;
        }
        /* (A round robin over one channel needs no count.) */
    } else if (oe->kind == ENG_EDGE_HASH && oe->par > 1) {
        /* The edge's shape in locals: the record stores and the batch
         * counts below may alias oe, which would otherwise be read again,
         * with target()'s call and switch, for every record (72
         * instructions a record in the default scenario, against 35). */
        uint32_t par = oe->par, maxp = oe->maxp;
        bool pow2 = (maxp & (maxp - 1)) == 0;
        int shift = pow2 ? __builtin_ctz(maxp) : 0;
        for (; i < n; i++) {
            /* kg * par / maxp, as target() and eng_key_group_subtask. */
            uint64_t scaled = (uint64_t)eng_key_group(rec[i].key, maxp) * par;
            uint32_t c = (uint32_t)(pow2 ? scaled >> shift : scaled / maxp);
            struct eng_slot *s = oe->open[c];
            if (!s || s->kind != ENG_SLOT_DATA || s->batch.n == ENG_BATCH_CAP) {
                if (!room(k, oe, c)) {
                    k->pend_off = i;
                    return false;
                }
                s = oe->open[c];
            }
            s->batch.rec[s->batch.n++] = rec[i];
        }
    } else {
        for (; i < n; i++) {
            uint32_t c = target(oe, &rec[i]);
            struct eng_slot *s = oe->open[c];
            if (!s || s->kind != ENG_SLOT_DATA || s->batch.n == ENG_BATCH_CAP) {
                if (!room(k, oe, c)) {
                    k->pend_off = i;
                    return false;
                }
                s = oe->open[c];
            }
            s->batch.rec[s->batch.n++] = rec[i];
            if (oe->kind == ENG_EDGE_REBALANCE)
                oe->rr++;
        }
    }
    k->pend.n = k->pend_off = 0;
    return true;
}

/* A source alone in its chain with one channel out produces straight into
 * that channel's next slot, instead of into its batch, then pend, then the
 * slot: two copies of every record fewer on the source's thread.  Returns
 * the empty batch to produce into, or NULL for the usual way (records
 * still pending, more channels, or no free slot). */
struct eng_batch *eng__task_direct_batch(struct task *k)
{
    if (k->nops != 1 || k->nout != 1 || k->out[0].nch != 1 || k->pend_off < k->pend.n)
        return NULL;
    struct out_edge *oe = &k->out[0];
    struct eng_slot *s = oe->open[0];
    if (s && s->kind == ENG_SLOT_DATA && s->batch.n > 0)
        publish(k, oe, 0);      /* a partial batch from the usual way goes first */
    if (!room(k, oe, 0))
        return NULL;
    return &oe->open[0]->batch;
}

/* The batch eng__task_direct_batch gave has been produced into: a full one
 * goes at once, a partial one when the step ends (eng__task_flush_open). */
void eng__task_direct_done(struct task *k)
{
    struct out_edge *oe = &k->out[0];
    if (oe->open[0] && oe->open[0]->batch.n == ENG_BATCH_CAP)
        publish(k, oe, 0);
}

/*
 * Routes pend[pend_off..] to the outputs.  Each record is checked for room on
 * every channel it goes to before it is written to any, so a record stopped
 * by a full ring is retried whole and never reaches a channel twice.
 * Returns false when a ring is full; the rest stays in pend.
 */
bool eng__task_route_pending(struct task *k)
{
    if (k->nout == 1 && k->out[0].kind != ENG_EDGE_BROADCAST)
        return route_single(k, &k->out[0]);
    while (k->pend_off < k->pend.n) {
        const struct eng_record *r = &k->pend.rec[k->pend_off];
        if (!room_for(k, r))
            return false;
        for (uint32_t e = 0; e < k->nout; e++) {
            struct out_edge *oe = &k->out[e];
            uint32_t c0 = 0, c1 = 0;
            if (oe->kind == ENG_EDGE_BROADCAST)
                c1 = oe->nch - 1;
            else
                c0 = c1 = target(oe, r);
            for (uint32_t c = c0; c <= c1; c++) {
                struct eng_slot *s = oe->open[c];
                s->batch.rec[s->batch.n++] = *r;
            }
            if (oe->kind == ENG_EDGE_REBALANCE)
                oe->rr++;
        }
        k->pend_off++;
    }
    k->pend.n = k->pend_off = 0;
    return true;
}

/* Publishes every partly filled data slot (the task is about to go idle). */
void eng__task_flush_open(struct task *k)
{
    for (uint32_t e = 0; e < k->nout; e++)
        for (uint32_t c = 0; c < k->out[e].nch; c++) {
            struct eng_slot *s = k->out[e].open[c];
            if (s && s->kind == ENG_SLOT_DATA && s->batch.n > 0)
                publish(k, &k->out[e], c);
        }
}

/* Sends a control slot down every channel, behind the data before it.  False
 * when some ring is full: the slots claimed so far stay open and a later call
 * goes on from there. */
bool eng__task_emit_control(struct task *k, enum eng_slot_kind kind, uint64_t chk)
{
    eng__task_flush_open(k);
    for (uint32_t e = 0; e < k->nout; e++) {
        struct out_edge *oe = &k->out[e];
        for (uint32_t c = 0; c < oe->nch; c++) {
            struct eng_slot *s = oe->open[c];
            if (s && s->kind != ENG_SLOT_DATA)
                continue;       /* claimed by an earlier try */
            if (s)
                publish(k, oe, c);      /* an empty data slot: give it back as is */
            s = eng_chan_claim(oe->ch[c]);
            if (!s)
                return false;
            s->kind = kind;
            s->checkpoint_id = chk;
            s->base = kind == ENG_SLOT_BARRIER ? k->barrier_base : 0;
            s->batch.n = 0;
            oe->open[c] = s;
        }
    }
    for (uint32_t e = 0; e < k->nout; e++)
        for (uint32_t c = 0; c < k->out[e].nch; c++)
            publish(k, &k->out[e], c);
    return true;
}

/* Finishes what earlier steps could not: pending records, then a pending
 * barrier, then a pending end.  False while still blocked. */
bool eng__task_unblock(struct task *k)
{
    if (!eng__task_route_pending(k))
        return false;
    if (k->pend_barrier) {
        if (!eng__task_emit_control(k, ENG_SLOT_BARRIER, k->pend_chk))
            return false;
        k->pend_barrier = false;
    }
    if (k->pend_end) {
        if (!eng__task_emit_control(k, ENG_SLOT_END, 0))
            return false;
        k->pend_end = false;
    }
    return true;
}

/* ---- checkpoints ------------------------------------------------------------ */

static struct snap_job *snap_slot(struct task *k, uint64_t chk)
{
    for (int i = 0; i < SNAPS_MAX; i++)
        if (k->snaps[i].chk == chk)
            return &k->snaps[i];
    return NULL;
}

/* Remembers what a snapshot that succeeded wrote, for the incremental
 * snapshots based on its checkpoint. */
static void remember(struct task *k, const struct snap_job *sj)
{
    if (!k->recs)
        return;
    memmove(&k->recs[0], &k->recs[1], (SNAPS_MAX - 1) * sizeof(*k->recs));
    struct snap_rec *rec = &k->recs[SNAPS_MAX - 1];
    rec->chk = sj->chk;
    rec->n = sj->n;
    for (uint32_t i = 0; i < sj->n; i++) {
        const struct eng_meta_entry *e = &sj->e[i];
        rec->op[i].vertex = e->vertex;
        rec->op[i].n_files = 1 + e->n_refs;
        rec->op[i].files[0] = (struct eng_snap_fileref){ sj->chk, e->size, e->checksum };
        memcpy(&rec->op[i].files[1], e->refs, e->n_refs * sizeof(e->refs[0]));
    }
}

/* The files an operator's snapshot based on checkpoint `base` may refer to. */
static void base_files(const struct task *k, uint64_t base, uint32_t vertex,
                       struct eng_snap_state *st)
{
    for (int r = 0; base && k->recs && r < SNAPS_MAX; r++)
        if (k->recs[r].chk == base)
            for (uint32_t i = 0; i < k->recs[r].n; i++)
                if (k->recs[r].op[i].vertex == vertex) {
                    st->n_base = k->recs[r].op[i].n_files;
                    memcpy(st->base, k->recs[r].op[i].files, st->n_base * sizeof(st->base[0]));
                    return;
                }
}

void eng__task_state_file(const struct task *k, uint64_t chk, uint32_t vertex, uint32_t subtask,
                          char *out, size_t n)
{
    snprintf(out, n, "%s/chk-%llu/v%u-s%u.state", k->job->dir, (unsigned long long)chk, vertex,
             subtask);
}

void eng__task_snap_finish(struct task *k, struct snap_job *sj)
{
    if (!sj->failed)
        remember(k, sj);
    struct {
        struct eng_ack a;
        struct eng_meta_entry e[ENG_CHAIN_MAX];
    } msg = { .a = { .task = k->id, .attempt = k->attempt, .checkpoint_id = sj->chk,
                     .n = sj->n, .declined = sj->failed } };
    snprintf(msg.a.reason, sizeof(msg.a.reason), "%s", sj->reason);
    memcpy(msg.e, sj->e, sj->n * sizeof(sj->e[0]));
    rt_send(k->self, k->runner, ENG_MSG_TASK_ACK, &msg,
            (uint32_t)(sizeof(msg.a) + sj->n * sizeof(sj->e[0])));
    sj->chk = 0;
}

/* ---- snapshots, encoded away from the task --------------------------------- *
 *
 * A snapshot has two halves.  At the barrier, on the task's thread: every
 * operator fills its values and hands over its keyed state, which is frozen
 * (eng_kstate_freeze: a copy of the table, the blobs shared) - about 1 ms
 * per 4 MB of table.  Then the barrier goes on and the task with it.  The
 * encoding - collect, sort, copy every blob, checksum, some 14 ms for 16 MB
 * - runs through rt_actor_offload on the node's worker thread, straight
 * into the DFS write requests, which the task submits when it is done.  As
 * in Flink's heap backend, the synchronous part is a copy-on-write cut.
 * That is not all the task's thread pays: bench engine's chk_cpu_ms_task
 * measures the TaskManager threads' extra CPU per checkpoint, 14-22 ms for
 * 16 MB of state (a noisy figure), against ~9 ms on the worker.  perf puts
 * some of it in the copy, the sink's commit and its fresh txn table, and
 * the rest in state updates, whose cost varies as much from run to run.
 * A chain without keyed state encodes inline, and so does the sim
 * world, without the copy. */

/* One operator's state file. */
struct snap_file {
    struct eng_snap_state st;       /* staged records copied: the op may change */
    const struct eng_kstate *ks;    /* what is encoded: frozen, or the live state inline */
    struct eng_kstate *frozen;      /* task node's memory: thawed by done only */
    uint32_t vertex, subtask;
    char op_name[48];
    char file[ENG_SNAP_FILE_MAX];
    uint64_t job_id, cookie;
    uint64_t part_size;             /* RocksDB: uploaded as SST files (dfs_req) */
    uint32_t part_group, part_parallel;
    uint64_t inline_bytes;          /* smaller files go inside _metadata */
    struct dfs_write *w;            /* the encoded request, not yet submitted */
    size_t len;
    uint64_t checksum;
    uint64_t payload;               /* logical bytes after the len encoded ones */
    int rc;
};

/* Process memory: it outlives a crash of the task's node, when
 * rt_actor_offload hands it to snap_work_free instead of snap_encoded. */
struct snap_work {
    uint64_t chk;
    uint32_t n;
    struct snap_file f[ENG_CHAIN_MAX];
};

struct write_slot {
    const struct dfs_req *req;
    struct dfs_write *w;
};

static void *prepare_write(void *arg, size_t len)
{
    struct write_slot *ws = arg;
    return dfs_write_prepare(ws->req, len, &ws->w);
}

/* Encodes every file straight into its write request (no copy of it).
 * Reads only sw and the frozen copies. */
static void snap_encode(void *arg)
{
    struct snap_work *sw = arg;
    for (uint32_t i = 0; i < sw->n; i++) {
        struct snap_file *f = &sw->f[i];
        struct dfs_req req = { .op = DFS_OP_WRITE, .path = f->file, .job = f->job_id,
                               .phase = DFS_PHASE_CHECKPOINT, .cookie = f->cookie,
                               .part_size = f->part_size, .part_group = f->part_group,
                               .part_parallel = f->part_parallel };
        struct write_slot ws = { &req, NULL };
        uint8_t *buf = NULL;
        f->rc = eng_snapshot_encode_into(&f->st, f->ks, prepare_write, &ws, &buf, &f->len);
        if (f->rc < 0) {
            dfs_write_abandon(ws.w);
            return;     /* the files after it are not written either */
        }
        f->w = ws.w;
        f->checksum = eng_snapshot_checksum(buf, f->len);
        /* Declared state held as descriptors: the file stands for the
         * bytes they describe, a payload whose seed is the file's checksum
         * (which covers every descriptor). */
        f->payload = f->st.payload_bytes;
        if (f->payload)
            dfs_write_set_logical(f->w, f->payload, f->checksum);
        if (f->len + f->payload < f->inline_bytes)
            dfs_write_add_flags(f->w, DFS_F_INLINE);    /* it goes inside _metadata */
    }
}

/* Frees what sw holds in process memory. */
static void snap_work_free(void *arg)
{
    struct snap_work *sw = arg;
    for (uint32_t i = 0; i < sw->n; i++) {
        dfs_write_abandon(sw->f[i].w);
        rt_free(sw->f[i].st.staged);
    }
    rt_free(sw);
}

/* Back on the task's thread: start writing the files, or give them up when
 * the task is gone. */
static void snap_encoded(struct rt_actor *a, void *arg)
{
    struct snap_work *sw = arg;
    for (uint32_t i = 0; i < sw->n; i++) {
        eng_kstate_thaw(sw->f[i].frozen);
        sw->f[i].frozen = NULL;
    }
    struct task *k = a ? rt_actor_state(a) : NULL;
    struct snap_job *sj = k ? snap_slot(k, sw->chk) : NULL;
    for (uint32_t i = 0; sj && i < sw->n; i++) {
        struct snap_file *f = &sw->f[i];
        if (f->rc < 0) {
            sj->failed = true;
            snprintf(sj->reason, sizeof(sj->reason), "snapshot of %.40s failed: %.90s",
                     f->op_name, strerror(-f->rc));
            break;
        }
        struct eng_meta_entry *e = &sj->e[sj->n++];
        memcpy(e->file, f->file, sizeof(e->file));
        e->vertex = f->vertex;
        e->subtask = f->subtask;
        e->kg_first = f->st.kg_first;
        e->kg_last = f->st.kg_last;
        e->size = f->len + f->payload;     /* the logical size */
        e->checksum = f->checksum;
        e->n_refs = f->st.n_refs;
        memcpy(e->refs, f->st.refs, f->st.n_refs * sizeof(e->refs[0]));
        dfs_submit_write(k->self, k->job->dfs, f->w);
        f->w = NULL;
        sj->outstanding++;
    }
    if (sj && sj->outstanding == 0)
        eng__task_snap_finish(k, sj);
    snap_work_free(sw);
}

/* Snapshots every operator for checkpoint chk: the synchronous half here,
 * the encoding and the writes from snap_encoded.  An incremental
 * snapshot's operators refer to their files of checkpoint base. */
static void snapshot(struct task *k, uint64_t chk, uint64_t base)
{
    struct snap_job *sj = snap_slot(k, 0);
    if (!sj) {
        struct snap_job tmp = { .chk = chk, .failed = true };
        snprintf(tmp.reason, sizeof(tmp.reason), "task %u: too many snapshots in flight", k->id);
        eng__task_snap_finish(k, &tmp);
        return;
    }
    memset(sj, 0, sizeof(*sj));
    sj->chk = chk;
    k->last_barrier = chk;
    struct snap_work *sw = rt_xcalloc_process(1, sizeof(*sw));
    sw->chk = chk;
    bool keyed = false;
    /* The sim world runs offloaded work at once, before the state can
     * change: no copy needed (and a run's memory figures stay those of the
     * state alone). */
    bool freeze = rt_world_kind(rt_actor_world(k->self)) == RT_WORLD_REAL;
    for (uint32_t i = 0; i < k->nops; i++) {
        struct eng_op *op = k->ops[i];
        struct snap_file *f = &sw->f[sw->n];
        f->st = (struct eng_snap_state){ .checkpoint_id = chk,
                                         .max_parallelism = op->env.max_parallelism };
        eng_key_group_range(op->env.subtask, op->env.parallelism, op->env.max_parallelism,
                            &f->st.kg_first, &f->st.kg_last);
        base_files(k, base, op->env.vertex, &f->st);
        struct eng_kstate *ks = NULL;
        int rc = op->ops->snapshot ? op->ops->snapshot(op, &f->st, &ks) : 0;
        if (rc < 0) {
            sj->failed = true;
            snprintf(sj->reason, sizeof(sj->reason), "snapshot of %.40s failed: %.90s",
                     op->vertex->name, op->error[0] ? op->error : strerror(-rc));
            break;
        }
        if (f->st.n_staged && f->st.staged) {
            struct eng_record *copy = rt_xmalloc_process(f->st.n_staged * sizeof(*copy));
            memcpy(copy, f->st.staged, f->st.n_staged * sizeof(*copy));
            f->st.staged = copy;
        }
        sw->n++;
        if (ks && eng_kstate_count(ks)) {
            f->frozen = freeze ? eng_kstate_freeze(ks) : NULL;
            keyed = true;
        }
        f->ks = f->frozen ? f->frozen : ks;
        f->vertex = op->env.vertex;
        f->subtask = op->env.subtask;
        snprintf(f->op_name, sizeof(f->op_name), "%s", op->vertex->name);
        eng__task_state_file(k, chk, op->env.vertex, op->env.subtask, f->file, sizeof(f->file));
        f->job_id = k->job->id;
        f->cookie = (chk << 8) | i;
        /* RocksDB uploads its new SST files through the same transfer
         * threads as a restore (a group of their own). */
        f->part_size = k->job->cfg.restore_part_bytes;
        f->part_parallel = k->job->cfg.restore_threads;
        f->part_group = (k->id * ENG_CHAIN_MAX + i) | 0x80000000u;
        f->inline_bytes = k->job->cfg.inline_bytes;
    }
    if (sj->failed) {
        /* Nothing written: the checkpoint is declined as it is. */
        for (uint32_t i = 0; i < sw->n; i++)
            eng_kstate_thaw(sw->f[i].frozen);
        snap_work_free(sw);
        eng__task_snap_finish(k, sj);
        return;
    }
    if (keyed) {
        rt_actor_offload(k->self, snap_encode, snap_encoded, snap_work_free, sw);
        return;
    }
    snap_encode(sw);    /* values only: a few hundred bytes */
    snap_encoded(k->self, sw);
}

/* A snapshot file's write or fsync completed. */
void eng__task_on_snapshot_io(struct task *k, const struct dfs_done *d)
{
    struct snap_job *sj = snap_slot(k, d->cookie >> 8);
    if (!sj)
        return;
    uint32_t i = (uint32_t)(d->cookie & 0xff);
    if (d->status < 0 && !sj->failed) {
        sj->failed = true;
        snprintf(sj->reason, sizeof(sj->reason), "writing %.100s: %.40s",
                 i < sj->n ? sj->e[i].file : "?", strerror(-d->status));
    }
    if (d->op == DFS_OP_WRITE && d->status == 0) {
        /* Durable before acknowledged: a checkpoint must never name a file
         * that a crash of the filesystem could still lose. */
        struct dfs_req req = { .op = DFS_OP_FSYNC, .path = sj->e[i].file, .job = k->job->id,
                               .phase = DFS_PHASE_CHECKPOINT, .cookie = d->cookie };
        if (sj->e[i].size < k->job->cfg.inline_bytes)
            req.flags |= DFS_F_INLINE;
        dfs_submit(k->self, k->job->dfs, &req);
        return;
    }
    if (--sj->outstanding == 0)
        eng__task_snap_finish(k, sj);
}

/* Checkpoint chk is aligned (or triggered, for a source): snapshot, then send
 * the barrier on. */
void eng__task_checkpoint_here(struct task *k, uint64_t chk, uint64_t base)
{
    snapshot(k, chk, base);
    k->barrier_base = base;
    k->align_chk = 0;
    k->aligned_n = 0;
    /* Records the snapshot already accounts for (a source's offset is past
     * them) must reach the channels before the barrier does. */
    if (k->pend_off < k->pend.n || !eng__task_emit_control(k, ENG_SLOT_BARRIER, chk)) {
        k->pend_barrier = true;
        k->pend_chk = chk;
        eng__task_time(k, ENG_TASK_TIME_BP);
    }
}

void eng__task_on_barrier(struct task *k, uint32_t port, uint64_t chk, uint64_t base)
{
    if (chk <= k->last_barrier)
        return;     /* a barrier of a checkpoint we already took (or gave up) */
    if (k->align_chk != chk) {
        k->align_chk = chk;     /* a newer barrier supersedes an unfinished alignment */
        k->aligned_n = 0;
    }
    k->in[port].aligned = chk;
    k->aligned_n++;
    uint32_t live = 0;
    for (uint32_t i = 0; i < k->nin; i++)
        live += !k->in[i].ended;
    if (k->aligned_n >= live)
        eng__task_checkpoint_here(k, chk, base);
}

