/*
 * op_test.c - the operators that misbehave on command: FAIL, STALL, BURN and
 * ALLOC.  All pass their records through unchanged; in eng_reference
 * (env.reference) they do nothing else, so the reference output is the job's
 * output without the misbehaviour.
 *
 *   FAIL   at_record N: the N-th record (1-based) this subtask processes in
 *          this attempt fails the task with -EIO - on attempt 0 only, so the
 *          restarted job can finish.  probability p: each record fails the
 *          task with chance p drawn from rt_rand_double(env.node), on every
 *          attempt (no node: no draw, no failure).
 *   STALL  the batch holding the at_record-th record returns ENG_PROCESS_STALL
 *          with stall_ms once per attempt (this instance); the task calls
 *          again with the same batch, which then passes.
 *   BURN   spins on the monotonic clock for ns_per_record per record (one
 *          spin per batch): real CPU time, which is what it is for.
 *   ALLOC  keeps a bytes_per_key blob (and a record count) per distinct key
 *          in keyed state, so the node's memory grows with the keys seen
 *          and can hit a TaskManager's memory limit.  A job's declared
 *          state (args.declared) is held here only where no COUNT, SUM or
 *          REDUCE comes right before the sink (op_keyed.c holds it
 *          there, beside the aggregate).  In the sim world it keeps a payload
 *          descriptor per key instead (eng_kstate_put_logical): the
 *          snapshots and the DFS carry the bytes it stands for, the memory
 *          holds 16 bytes, so production-sized state costs nothing to
 *          simulate.  The record counts stay real keyed entries.
 *
 * Records are counted per instance: a restored instance starts at 0 again,
 * which is the "per attempt" above.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/kstate.h"
#include "engine/op_internal.h"
#include "engine/operator.h"
#include "runtime/rt.h"
#include "runtime/rt_mem.h"

struct test_op {
    struct eng_op base;
    uint64_t seen;      /* records processed by this instance */
    bool stalled;       /* STALL: already stalled in this attempt */
    uint8_t *zeros;     /* ALLOC: bytes_per_key zero bytes, the blob template */
    bool logical;       /* ALLOC: descriptors instead of blobs (see above) */
};

static void pass(const struct eng_record *in, uint32_t n, struct eng_rvec *out)
{
    if (n)
        memcpy(eng_rvec_extend(out, n), in, (size_t)n * sizeof(*in));
}

/* True when the at-th record (1-based) is in the batch after `seen`. */
static bool hits(uint64_t at, uint64_t seen, uint32_t n)
{
    return at != 0 && at > seen && at - seen <= n;
}

static int fail_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                        struct eng_rvec *out, uint64_t *stall_ns)
{
    struct test_op *t = (struct test_op *)op;
    const struct eng_op_args *a = &op->vertex->args;
    if (!op->env.reference) {
        if (op->env.attempt == 0 && hits(a->at_record, t->seen, n))
            return eng__op_fail(op, -EIO, "injected failure at record %llu",
                                (unsigned long long)a->at_record);
        if (a->probability > 0.0 && op->env.node) {
            for (uint32_t i = 0; i < n; i++)
                if (rt_rand_double(op->env.node) < a->probability)
                    return eng__op_fail(op, -EIO,
                                        "injected failure at record %llu (probability %g)",
                                        (unsigned long long)(t->seen + i + 1), a->probability);
        }
    }
    t->seen += n;
    pass(in, n, out);
    return 0;
}

static int stall_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                         struct eng_rvec *out, uint64_t *stall_ns)
{
    struct test_op *t = (struct test_op *)op;
    const struct eng_op_args *a = &op->vertex->args;
    if (!op->env.reference && !t->stalled && hits(a->at_record, t->seen, n)) {
        t->stalled = true;
        *stall_ns = a->stall_ms * 1000000ull;
        return ENG_PROCESS_STALL;
    }
    t->seen += n;
    pass(in, n, out);
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int burn_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                        struct eng_rvec *out, uint64_t *stall_ns)
{
    uint64_t ns = op->vertex->args.ns_per_record * n;
    if (!op->env.reference && ns) {
        uint64_t end = mono_ns() + ns;
        while (mono_ns() < end)
            ;
    }
    pass(in, n, out);
    return 0;
}

static int alloc_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                         struct eng_rvec *out, uint64_t *stall_ns)
{
    struct test_op *t = (struct test_op *)op;
    uint32_t bytes = (uint32_t)op->vertex->args.bytes_per_key;
    if (op->env.reference) {
        pass(in, n, out);
        return 0;
    }
    /* Count per key in one prefetching pass, using the output as scratch: a
     * running count of 1 is a key seen for the first time. */
    struct eng_record *o = eng_rvec_extend(out, n);
    eng_kstate_aggregate_batch(op->kstate, ENG_KSTATE_COUNT, in, n, o);
    uint64_t per_key = op->vertex->args.bytes_per_key;
    for (uint32_t i = 0; i < n; i++) {
        if (o[i].value != 1 || !per_key)
            continue;
        if (t->logical) {
            /* The bytes are zeros, as the real blob's; the key tells them apart. */
            struct eng_payload p = { .bytes = per_key, .seed = in[i].key };
            eng_kstate_put_logical(op->kstate, in[i].key, &p);
        } else {
            /* The blob is the point: allocated once per key, kept forever. */
            eng_kstate_put_blob(op->kstate, in[i].key, t->zeros, bytes);
        }
    }
    memcpy(o, in, n * sizeof(*in));
    return 0;
}

static int alloc_snapshot(struct eng_op *op, struct eng_snap_state *st,
                          struct eng_kstate **ks)
{
    *ks = op->kstate;
    return 0;
}

static void test_free(struct eng_op *op)
{
    rt_free(((struct test_op *)op)->zeros);
}

#define TEST_OPS(fn, snap)                                                          \
    {                                                                               \
        .process = fn, .snapshot = snap, .restore = eng__op_restore_none,          \
        .notify_complete = eng__op_notify_none, .free = test_free,                 \
    }

static const struct eng_op_ops fail_ops = TEST_OPS(fail_process, eng__op_snapshot_none);
static const struct eng_op_ops stall_ops = TEST_OPS(stall_process, eng__op_snapshot_none);
static const struct eng_op_ops burn_ops = TEST_OPS(burn_process, eng__op_snapshot_none);
static const struct eng_op_ops alloc_ops = TEST_OPS(alloc_process, alloc_snapshot);

/* Whether an ALLOC keeps descriptors: declared state in the sim world only;
 * the real world keeps writing real bytes. */
static bool logical_alloc(const struct eng_vertex *v, const struct eng_op_env *env)
{
    return v->args.declared && env->node &&
           rt_world_kind(rt_node_world(env->node)) == RT_WORLD_SIM;
}

struct eng_op *eng__op_test_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                char *err, size_t errlen)
{
    const struct eng_op_ops *ops;
    switch (v->kind) {
    case ENG_OP_FAIL:
        if (!(v->args.probability >= 0.0 && v->args.probability <= 1.0)) {
            snprintf(err, errlen, "fail '%s': probability %g is outside [0, 1]", v->name,
                     v->args.probability);
            return NULL;
        }
        ops = &fail_ops;
        break;
    case ENG_OP_STALL:
        ops = &stall_ops;
        break;
    case ENG_OP_BURN:
        ops = &burn_ops;
        break;
    default:
        /* Only blobs that are materialised have a limit (the reference
         * model passes records through and holds none). */
        if (v->args.bytes_per_key > ENG_KSTATE_BLOB_MAX && !env->reference &&
            !logical_alloc(v, env)) {
            snprintf(err, errlen, "alloc '%s': bytes_per_key %llu is above the 2 GiB a "
                     "key's blob can hold", v->name, (unsigned long long)v->args.bytes_per_key);
            return NULL;
        }
        ops = &alloc_ops;
        break;
    }
    struct test_op *t = (struct test_op *)eng__op_alloc(sizeof(*t), ops, v, env);
    if (v->kind == ENG_OP_ALLOC) {
        t->base.kstate = eng_kstate_new(env->max_parallelism ? env->max_parallelism
                                                             : v->max_parallelism);
        t->logical = logical_alloc(v, env);
        if (v->args.bytes_per_key && !env->reference && !t->logical)
            t->zeros = rt_xcalloc(1, v->args.bytes_per_key);
    }
    return &t->base;
}
