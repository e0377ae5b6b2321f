/*
 * op_sink.c - the transactional (two-phase commit) sink.
 *
 * Records are staged in the open transaction.  snapshot(n) pre-commits the
 * open transaction as txn n (when it holds records; an empty one is simply
 * not created) and writes every pending txn - pre-committed, not yet
 * committed - into the snapshot: their records, in txn order, as the
 * snapshot's staged records, and their boundaries as values
 *
 *   "sink.subtask"   the subtask whose txns these are (commits stay under
 *                    that identity even if another subtask restores them)
 *   "txn.count"      number of pending txns, P
 *   "txn.<i>.id"     txn id (= checkpoint id) of the i-th, i = 0 .. P-1
 *   "txn.<i>.n"      its record count; the staged records are txn 0's, then
 *                    txn 1's, ...
 *
 * With ENG_SNAP_VALUES_MAX = 32 that is at most 15 pending txns; a snapshot
 * that would need more fails with -ENOSPC (the open txn stays open, so the
 * next snapshot carries its records).  notify_complete(m) commits every
 * pending txn <= m, in order, through eng_output_commit, which ignores a txn
 * the subtask has already committed.  restore(st) commits st's pending txns
 * the same idempotent way (their checkpoint completed: it is being restored)
 * and drops everything else this instance held.  Restore may be called once
 * per old state file (rescaled sinks): each call commits that file's txns.
 *
 * Memory: one growing record array holds the pending txns' records followed
 * by the open txn's; committing moves the rest down.  No per-record
 * allocation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/op_internal.h"
#include "engine/operator.h"
#include "runtime/rt_mem.h"

#define SINK_SUBTASK_VALUE "sink.subtask"
#define SINK_COUNT_VALUE "txn.count"

struct sink_txn {
    uint64_t id;
    uint32_t n;
};

struct sink_op {
    struct eng_op base;
    struct eng_record *rec;     /* pending txns' records, then the open txn's */
    uint64_t n_rec, cap_rec;
    uint64_t n_pending_rec;     /* records of rec that belong to pending txns */
    struct sink_txn *txn;       /* pending txns, ascending order of pre-commit */
    uint32_t n_txn, cap_txn;
};

static int sink_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                        struct eng_rvec *out, uint64_t *stall_ns)
{
    struct sink_op *s = (struct sink_op *)op;
    if (s->n_rec + n > s->cap_rec) {
        uint64_t cap = s->cap_rec ? s->cap_rec : ENG_BATCH_CAP;
        while (cap < s->n_rec + n)
            cap *= 2;
        s->rec = rt_xrealloc(s->rec, cap * sizeof(*s->rec));
        s->cap_rec = cap;
    }
    memcpy(s->rec + s->n_rec, in, (size_t)n * sizeof(*in));
    s->n_rec += n;
    return 0;
}

static int put_txn_values(struct eng_snap_state *st, uint32_t i, const struct sink_txn *t)
{
    char name[ENG_SNAP_NAME_MAX];
    snprintf(name, sizeof(name), "txn.%u.id", i);
    int rc = eng_snap_set_u64(st, name, t->id);
    if (rc == 0) {
        snprintf(name, sizeof(name), "txn.%u.n", i);
        rc = eng_snap_set_u64(st, name, t->n);
    }
    return rc;
}

static int sink_snapshot(struct eng_op *op, struct eng_snap_state *st,
                         const struct eng_kstate **ks)
{
    struct sink_op *s = (struct sink_op *)op;
    *ks = NULL;
    uint64_t open = s->n_rec - s->n_pending_rec;
    uint32_t txns = s->n_txn + (open ? 1 : 0);
    /* Count the free value slots first, so a failed snapshot changes nothing. */
    uint32_t free_slots = ENG_SNAP_VALUES_MAX - st->n_values;
    if (st->n_values > ENG_SNAP_VALUES_MAX || free_slots < 2 || (free_slots - 2) / 2 < txns)
        return eng__op_fail(op, -ENOSPC,
                            "checkpoint %llu: %u pending transactions do not fit the %u "
                            "values of a state file (checkpoints are not completing: "
                            "%u is the most a sink can carry)",
                            (unsigned long long)st->checkpoint_id, txns, ENG_SNAP_VALUES_MAX,
                            (ENG_SNAP_VALUES_MAX - 2) / 2);
    if (open > UINT32_MAX)
        return eng__op_fail(op, -EFBIG, "checkpoint %llu: %llu records in one transaction",
                            (unsigned long long)st->checkpoint_id, (unsigned long long)open);
    if (open) {
        if (s->n_txn == s->cap_txn) {
            s->cap_txn = s->cap_txn ? s->cap_txn * 2 : 8;
            s->txn = rt_xrealloc(s->txn, s->cap_txn * sizeof(*s->txn));
        }
        s->txn[s->n_txn++] = (struct sink_txn){.id = st->checkpoint_id, .n = (uint32_t)open};
        s->n_pending_rec = s->n_rec;
    }
    int rc = eng_snap_set_u64(st, SINK_SUBTASK_VALUE, op->env.subtask);
    if (rc == 0)
        rc = eng_snap_set_u64(st, SINK_COUNT_VALUE, s->n_txn);
    for (uint32_t i = 0; rc == 0 && i < s->n_txn; i++)
        rc = put_txn_values(st, i, &s->txn[i]);
    if (rc < 0)
        return eng__op_fail(op, rc, "checkpoint %llu: cannot store the transaction list",
                            (unsigned long long)st->checkpoint_id);
    if (s->n_pending_rec > UINT32_MAX)
        return eng__op_fail(op, -EFBIG, "checkpoint %llu: %llu pending records",
                            (unsigned long long)st->checkpoint_id,
                            (unsigned long long)s->n_pending_rec);
    st->staged = s->rec;    /* borrowed until the task has encoded the file */
    st->n_staged = (uint32_t)s->n_pending_rec;
    return 0;
}

/* Commits pending txns <= m, oldest first; a txn the output refuses (out of
 * memory) stays pending with everything after it, for the next notify. */
static void sink_notify(struct eng_op *op, uint64_t m)
{
    struct sink_op *s = (struct sink_op *)op;
    uint32_t done = 0;
    uint64_t off = 0;
    while (done < s->n_txn && s->txn[done].id <= m) {
        bool applied;
        if (eng_output_commit(op->env.output, op->env.vertex, op->env.subtask,
                              s->txn[done].id, s->rec + off, s->txn[done].n, &applied) < 0)
            break;
        off += s->txn[done].n;
        done++;
    }
    if (!done)
        return;
    memmove(s->rec, s->rec + off, (size_t)(s->n_rec - off) * sizeof(*s->rec));
    s->n_rec -= off;
    s->n_pending_rec -= off;
    memmove(s->txn, s->txn + done, (size_t)(s->n_txn - done) * sizeof(*s->txn));
    s->n_txn -= done;
}

static int sink_restore(struct eng_op *op, const struct eng_snap_state *st)
{
    struct sink_op *s = (struct sink_op *)op;
    /* Whatever this instance held belongs to the failed attempt. */
    s->n_rec = s->n_pending_rec = 0;
    s->n_txn = 0;
    uint64_t count = 0, owner = op->env.subtask;
    (void)eng_snap_get_u64(st, SINK_SUBTASK_VALUE, &owner);
    if (eng_snap_get_u64(st, SINK_COUNT_VALUE, &count) < 0)
        count = 0;
    if (count > ENG_SNAP_VALUES_MAX || owner > UINT32_MAX)
        return eng__op_fail(op, -EBADMSG, "checkpoint %llu: %s %llu is impossible",
                            (unsigned long long)st->checkpoint_id, SINK_COUNT_VALUE,
                            (unsigned long long)count);
    /* Check the whole list against the staged records before committing any. */
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        char name[ENG_SNAP_NAME_MAX];
        uint64_t id, n;
        snprintf(name, sizeof(name), "txn.%u.id", i);
        int rc = eng_snap_get_u64(st, name, &id);
        snprintf(name, sizeof(name), "txn.%u.n", i);
        if (rc < 0 || eng_snap_get_u64(st, name, &n) < 0)
            return eng__op_fail(op, -EBADMSG, "checkpoint %llu: transaction %u of %llu has "
                                "no id or size", (unsigned long long)st->checkpoint_id, i,
                                (unsigned long long)count);
        if (id > st->checkpoint_id)
            return eng__op_fail(op, -EBADMSG, "checkpoint %llu: pending txn %llu is newer "
                                "than the checkpoint", (unsigned long long)st->checkpoint_id,
                                (unsigned long long)id);
        total += n;
    }
    if (total != st->n_staged)
        return eng__op_fail(op, -EBADMSG, "checkpoint %llu: transactions hold %llu records "
                            "but the file stages %u", (unsigned long long)st->checkpoint_id,
                            (unsigned long long)total, st->n_staged);
    uint64_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        char name[ENG_SNAP_NAME_MAX];
        uint64_t id = 0, n = 0;
        snprintf(name, sizeof(name), "txn.%u.id", i);
        (void)eng_snap_get_u64(st, name, &id);
        snprintf(name, sizeof(name), "txn.%u.n", i);
        (void)eng_snap_get_u64(st, name, &n);
        bool applied;
        int rc = eng_output_commit(op->env.output, op->env.vertex, (uint32_t)owner, id,
                                   st->staged + off, (uint32_t)n, &applied);
        if (rc < 0)
            return eng__op_fail(op, rc, "checkpoint %llu: re-committing txn %llu failed",
                                (unsigned long long)st->checkpoint_id,
                                (unsigned long long)id);
        off += n;
    }
    return 0;
}

static void sink_free(struct eng_op *op)
{
    struct sink_op *s = (struct sink_op *)op;
    rt_free(s->rec);
    rt_free(s->txn);
}

static const struct eng_op_ops sink_ops = {
    .process = sink_process,
    .snapshot = sink_snapshot,
    .restore = sink_restore,
    .notify_complete = sink_notify,
    .free = sink_free,
};

struct eng_op *eng__op_sink_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                char *err, size_t errlen)
{
    if (!env->output) {
        snprintf(err, errlen, "sink '%s': no output to commit to (env.output is NULL)",
                 v->name);
        return NULL;
    }
    return eng__op_alloc(sizeof(struct sink_op), &sink_ops, v, env);
}
