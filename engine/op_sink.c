/*
 * op_sink.c - the transactional (two-phase commit) sink.
 *
 * Records go to the external system as they arrive: eng_output_stage appends
 * each batch to the sink subtask's open txn there, invisible until committed
 * (Kafka's transactional producer, in short).  The instance itself keeps only
 * ids: the open txn's and the pending (pre-committed, uncommitted) ones.
 *
 * Txn ids: the txn opened after checkpoint c (0 at the start) has id c + 1.
 * snapshot(n) pre-commits the open txn when it holds records - it keeps its
 * id c + 1 <= n and is remembered as pre-committed at n - and opens txn
 * n + 1.  So ids ascend, every pending id is <= the checkpoint whose
 * snapshot lists it, and everything staged after checkpoint n has an id > n:
 * exactly what eng_output_abort_after(n) discards.  The snapshot holds only
 * values, no staged records:
 *
 *   "sink.subtask"   the subtask whose txns these are (commits stay under
 *                    that identity even if another subtask restores them)
 *   "txn.count"      number of pending txns, P
 *   "txn.<i>.id"     id of the i-th pending txn, ascending, i = 0 .. P-1
 *
 * With ENG_SNAP_VALUES_MAX = 32 that is at most 30 pending txns; a snapshot
 * that would need more fails with -ENOSPC and changes nothing (the open txn
 * stays open under its id, so the next snapshot pre-commits it).
 * notify_complete(m) commits every pending txn pre-committed at a
 * checkpoint <= m, oldest first.
 *
 * restore(st) from checkpoint n commits st's pending txns (their checkpoint
 * completed: it is being restored; a txn committed already is ignored by the
 * output) and, for its own subtask's file, fences the subtask
 * (eng_output_fence): aborts its txns > n - those the failed attempt staged
 * after n - and takes a new epoch, so an instance of the failed attempt
 * that is still running for a moment cannot stage into the txns this one
 * reuses (its stages fail; Kafka fences a zombie producer the same way).  It
 * does not fence for a file of another subtask (a rescaled restore): that
 * subtask's new instance may already be staging its own txn n + 1, and
 * fences its identity itself.  An instance that was not restored fences
 * after txn 0 before its first record: a failed attempt may have left txns
 * that a fresh start would otherwise reopen under the same ids.  That is right only when the whole
 * job starts without a checkpoint, which is the one case today (every sink
 * subtask restores its own file); a rescaled restore would have to hand a
 * new subtask without a file the checkpoint id too, or its fresh txn ids
 * could collide with pending ones another subtask is restoring.  Restore may
 * be called once per old state file; each call commits that file's txns.
 *
 * Memory: the pending-id list (at most 31 entries in use); the records are
 * the output's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/op_internal.h"
#include "engine/operator.h"
#include "runtime/rt_mem.h"

#define SINK_SUBTASK_VALUE "sink.subtask"
#define SINK_COUNT_VALUE "txn.count"
#define SINK_TXN_MAX (ENG_SNAP_VALUES_MAX - 2)  /* one value per pending txn id */

struct sink_txn {
    uint64_t id;
    uint64_t chk;           /* the checkpoint that pre-committed it */
};

struct sink_op {
    struct eng_op base;
    uint64_t open_id;       /* the open txn: last snapshot's checkpoint + 1 */
    uint64_t open_n;        /* records staged in it */
    uint64_t restored;      /* checkpoint restored from, 0 for none */
    uint32_t epoch;         /* from eng_output_fence; 0 until fenced */
    struct sink_txn txn[SINK_TXN_MAX];  /* pending, ascending */
    uint32_t n_txn;
};

static int sink_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                        struct eng_rvec *out, uint64_t *stall_ns)
{
    struct sink_op *s = (struct sink_op *)op;
    if (!s->epoch)
        s->epoch = eng_output_fence(op->env.output, op->env.vertex, op->env.subtask,
                                    s->restored, NULL);
    int rc = eng_output_stage(op->env.output, op->env.vertex, op->env.subtask, s->epoch,
                              s->open_id, in, n);
    if (rc == -ESTALE)
        return eng__op_fail(op, rc, "fenced off: a newer instance of sink subtask %u has "
                            "taken over its transactions (this one is left over from a "
                            "failed attempt)", op->env.subtask);
    if (rc < 0)
        return eng__op_fail(op, rc, "staging %u records in txn %llu failed", n,
                            (unsigned long long)s->open_id);
    s->open_n += n;
    return 0;
}

static int sink_snapshot(struct eng_op *op, struct eng_snap_state *st,
                         struct eng_kstate **ks)
{
    struct sink_op *s = (struct sink_op *)op;
    *ks = NULL;
    uint64_t chk = st->checkpoint_id;
    uint32_t txns = s->n_txn + (s->open_n ? 1 : 0);
    /* Check everything first, so a failed snapshot changes nothing. */
    uint32_t free_slots = ENG_SNAP_VALUES_MAX - st->n_values;
    if (st->n_values > ENG_SNAP_VALUES_MAX || free_slots < 2 || free_slots - 2 < txns ||
        txns > SINK_TXN_MAX)
        return eng__op_fail(op, -ENOSPC,
                            "checkpoint %llu: %u pending transactions do not fit the %u "
                            "values of a state file (checkpoints are not completing: "
                            "%u is the most a sink can carry)",
                            (unsigned long long)chk, txns, ENG_SNAP_VALUES_MAX, SINK_TXN_MAX);
    if (chk < s->open_id)
        return eng__op_fail(op, -EINVAL, "checkpoint %llu is older than the open txn %llu "
                            "(checkpoint ids must ascend)", (unsigned long long)chk,
                            (unsigned long long)s->open_id);
    char name[ENG_SNAP_NAME_MAX];
    int rc = eng_snap_set_u64(st, SINK_SUBTASK_VALUE, op->env.subtask);
    if (rc == 0)
        rc = eng_snap_set_u64(st, SINK_COUNT_VALUE, txns);
    for (uint32_t i = 0; rc == 0 && i < txns; i++) {
        snprintf(name, sizeof(name), "txn.%u.id", i);
        rc = eng_snap_set_u64(st, name, i < s->n_txn ? s->txn[i].id : s->open_id);
    }
    if (rc < 0)
        return eng__op_fail(op, rc, "checkpoint %llu: cannot store the transaction list",
                            (unsigned long long)chk);
    if (s->open_n) {
        s->txn[s->n_txn++] = (struct sink_txn){.id = s->open_id, .chk = chk};
        s->open_n = 0;
    }
    /* Even when empty (nothing staged under it), the open txn moves past
     * chk: whatever is staged after this snapshot must be > chk. */
    s->open_id = chk + 1;
    return 0;
}

/* Commits pending txns pre-committed at checkpoints <= m, oldest first.  A
 * txn the output does not know (it was aborted: impossible while fencing
 * works) stays pending with everything after it, and the error says so; the
 * list then fills up and the next snapshot fails loudly. */
static void sink_notify(struct eng_op *op, uint64_t m)
{
    struct sink_op *s = (struct sink_op *)op;
    uint32_t done = 0;
    while (done < s->n_txn && s->txn[done].chk <= m) {
        int rc = eng_output_commit_txn(op->env.output, op->env.vertex, op->env.subtask,
                                       s->txn[done].id, NULL);
        if (rc < 0) {
            eng__op_fail(op, rc, "checkpoint %llu: committing txn %llu failed",
                         (unsigned long long)m, (unsigned long long)s->txn[done].id);
            break;
        }
        done++;
    }
    memmove(s->txn, s->txn + done, (size_t)(s->n_txn - done) * sizeof(*s->txn));
    s->n_txn -= done;
}

static int sink_restore(struct eng_op *op, const struct eng_snap_state *st)
{
    struct sink_op *s = (struct sink_op *)op;
    uint64_t chk = st->checkpoint_id;
    uint64_t count = 0, owner = op->env.subtask;
    (void)eng_snap_get_u64(st, SINK_SUBTASK_VALUE, &owner);
    if (eng_snap_get_u64(st, SINK_COUNT_VALUE, &count) < 0)
        count = 0;
    if (count > SINK_TXN_MAX || owner > UINT32_MAX)
        return eng__op_fail(op, -EBADMSG, "checkpoint %llu: %s %llu, %s %llu is impossible",
                            (unsigned long long)chk, SINK_COUNT_VALUE,
                            (unsigned long long)count, SINK_SUBTASK_VALUE,
                            (unsigned long long)owner);
    /* Check the whole list before committing any. */
    uint64_t id[SINK_TXN_MAX];
    for (uint32_t i = 0; i < count; i++) {
        char name[ENG_SNAP_NAME_MAX];
        snprintf(name, sizeof(name), "txn.%u.id", i);
        if (eng_snap_get_u64(st, name, &id[i]) < 0)
            return eng__op_fail(op, -EBADMSG, "checkpoint %llu: transaction %u of %llu has "
                                "no id", (unsigned long long)chk, i,
                                (unsigned long long)count);
        if (id[i] > chk || id[i] == 0 || (i && id[i] <= id[i - 1]))
            return eng__op_fail(op, -EBADMSG, "checkpoint %llu: pending txn %llu is out of "
                                "order or newer than the checkpoint", (unsigned long long)chk,
                                (unsigned long long)id[i]);
    }
    for (uint32_t i = 0; i < count; i++) {
        int rc = eng_output_commit_txn(op->env.output, op->env.vertex, (uint32_t)owner, id[i],
                                       NULL);
        if (rc < 0)
            return eng__op_fail(op, rc, "checkpoint %llu: re-committing txn %llu of subtask "
                                "%llu failed: the output has no such txn",
                                (unsigned long long)chk, (unsigned long long)id[i],
                                (unsigned long long)owner);
    }
    /* Whatever this instance held belongs to the failed attempt. */
    s->n_txn = 0;
    s->open_n = 0;
    if (chk > s->restored)
        s->restored = chk;
    s->open_id = s->restored + 1;
    if (owner == op->env.subtask)
        s->epoch = eng_output_fence(op->env.output, op->env.vertex, op->env.subtask, chk, NULL);
    return 0;
}

static const struct eng_op_ops sink_ops = {
    .process = sink_process,
    .snapshot = sink_snapshot,
    .restore = sink_restore,
    .notify_complete = sink_notify,
    .free = eng__op_free_none,
};

struct eng_op *eng__op_sink_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                char *err, size_t errlen)
{
    if (!env->output) {
        snprintf(err, errlen, "sink '%s': no output to commit to (env.output is NULL)",
                 v->name);
        return NULL;
    }
    struct eng_op *op = eng__op_alloc(sizeof(struct sink_op), &sink_ops, v, env);
    ((struct sink_op *)op)->open_id = 1;
    return op;
}
