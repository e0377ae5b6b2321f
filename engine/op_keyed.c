/*
 * op_keyed.c - the keyed operators COUNT, SUM, REDUCE and WINDOW over
 * eng_kstate (one int64 per key, plus an 8-byte blob for WINDOW).
 *
 * COUNT, SUM and REDUCE (running max) emit, per input record, the updated
 * (key, aggregate, ts of the input).  Emitting the running value needs that
 * value per record, so they use eng_kstate_aggregate_batch (one probe per
 * record, home slots prefetched a few records ahead) rather than
 * eng_kstate_add_batch, which only yields the batch's end state.
 *
 * WINDOW is a tumbling event-time window of args.window_ms per key, without
 * watermarks (channels carry none): the window of a record is
 * floor(ts / window_ms).  Per key the state is the open window's index (blob)
 * and its sum (value).  A record
 *   - in the open window adds its value;
 *   - in a later window closes the open one - emits (key, sum, ts = last
 *     millisecond of that window) - and opens its own;
 *   - in an earlier window is late and dropped (Flink with zero allowed
 *     lateness).
 * So a window is emitted when the first record of a later window arrives for
 * its key, and a key's last window is never emitted: a stream has no end to
 * flush at.  The output is a deterministic function of each key's arrival
 * order, which is deterministic when that order is (eng_reference accepts
 * WINDOW only behind such inputs: see reference.c).
 *
 * A job's declared state (state=SIZE: args.bytes_per_key with args.declared)
 * lives in the COUNT, SUM or REDUCE right before its sink when there is one,
 * as the state of Flink's keyed operator would (else an ALLOC holds it, see
 * op_test.c): each key gets bytes_per_key bytes the first time the operator
 * sees it, beside its aggregate - a payload descriptor in the sim world
 * (eng_kstate_put_logical), that many real zero bytes in the real world - so
 * they are snapshotted, restored and redistributed with the key.  A key is
 * new only where its aggregate is its first record's (COUNT: 1; SUM, REDUCE:
 * the record's own value), so only those records are looked up again, and
 * once every key has been seen hardly any.  (It was an ALLOC of its own
 * behind the aggregate, and its second probe per record, copy and snapshot
 * table were a tenth of a sim run.)  The reference model holds none.
 *
 * All state is keyed, so snapshot hands over the kstate and restore has
 * nothing to do: the task has already loaded this subtask's key groups.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/kstate.h"
#include "engine/op_internal.h"
#include "engine/operator.h"
#include "runtime/rt.h"
#include "runtime/rt_mem.h"

struct keyed_op {
    struct eng_op base;
    uint64_t per_key;       /* declared state: bytes per key (0: none) */
    bool logical;           /* ... as payload descriptors (sim world) */
    uint8_t *zeros;         /* ... else per_key zero bytes, every key's blob */
};

/* Gives the keys first seen in this batch their declared bytes (see above):
 * o[i] is in[i]'s aggregate, first its own where first_is_value, else 1. */
static void declare(struct keyed_op *k, const struct eng_record *in, const struct eng_record *o,
                    uint32_t n, size_t keys_before, bool first_is_value)
{
    struct eng_kstate *ks = k->base.kstate;
    if (eng_kstate_count(ks) == keys_before)
        return;     /* no key is new */
    for (uint32_t i = 0; i < n; i++) {
        if (first_is_value ? o[i].value != in[i].value : o[i].value != 1)
            continue;
        uint32_t len;
        if (eng_kstate_get_blob(ks, in[i].key, &len))
            continue;
        if (k->logical) {
            /* The bytes are zeros, as the real blob's; the key tells them apart. */
            struct eng_payload p = { .bytes = k->per_key, .seed = in[i].key };
            eng_kstate_put_logical(ks, in[i].key, &p);
        } else {
            eng_kstate_put_blob(ks, in[i].key, k->zeros, (uint32_t)k->per_key);
        }
    }
}

static inline void aggregate(struct eng_op *op, enum eng_kstate_agg agg,
                             const struct eng_record *in, uint32_t n, struct eng_rvec *out)
{
    struct keyed_op *k = (struct keyed_op *)op;
    size_t before = k->per_key ? eng_kstate_count(op->kstate) : 0;
    struct eng_record *o = eng_rvec_extend(out, n);
    eng_kstate_aggregate_batch(op->kstate, agg, in, n, o);
    if (k->per_key)
        declare(k, in, o, n, before, agg != ENG_KSTATE_COUNT);
}

static int count_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                         struct eng_rvec *out, uint64_t *stall_ns)
{
    aggregate(op, ENG_KSTATE_COUNT, in, n, out);
    return 0;
}

static int sum_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                       struct eng_rvec *out, uint64_t *stall_ns)
{
    aggregate(op, ENG_KSTATE_SUM, in, n, out);
    return 0;
}

/* REDUCE is a running max. */
static int reduce_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                          struct eng_rvec *out, uint64_t *stall_ns)
{
    aggregate(op, ENG_KSTATE_MAX, in, n, out);
    return 0;
}

/* floor(ts / w) for any sign of ts. */
static int64_t window_of(int64_t ts, int64_t w)
{
    int64_t q = ts / w;
    return (ts % w != 0 && ts < 0) ? q - 1 : q;
}

static int window_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                          struct eng_rvec *out, uint64_t *stall_ns)
{
    int64_t w = (int64_t)op->vertex->args.window_ms;
    for (uint32_t i = 0; i < n; i++) {
        int64_t win = window_of(in[i].ts, w);
        uint32_t len;
        const uint8_t *blob = eng_kstate_get_blob(op->kstate, in[i].key, &len);
        if (!blob || len != sizeof(int64_t)) {
            eng_kstate_put(op->kstate, in[i].key, in[i].value);
            eng_kstate_put_blob(op->kstate, in[i].key, &win, sizeof(win));
            continue;
        }
        int64_t open;
        memcpy(&open, blob, sizeof(open));
        int64_t *sum = eng_kstate_get(op->kstate, in[i].key);
        if (win == open) {
            *sum += in[i].value;
        } else if (win > open) {
            struct eng_record r = {.key = in[i].key, .value = *sum, .ts = open * w + w - 1};
            eng_rvec_push(out, &r);
            *sum = in[i].value;
            /* Only here, once per key and window, does the blob change. */
            eng_kstate_put_blob(op->kstate, in[i].key, &win, sizeof(win));
        }
        /* else: late, dropped. */
    }
    return 0;
}

static int keyed_snapshot(struct eng_op *op, struct eng_snap_state *st,
                          struct eng_kstate **ks)
{
    *ks = op->kstate;
    return 0;
}

static void keyed_free(struct eng_op *op)
{
    rt_free(((struct keyed_op *)op)->zeros);
}

#define KEYED_OPS(fn)                                                                 \
    {                                                                                 \
        .process = fn, .snapshot = keyed_snapshot, .restore = eng__op_restore_none,  \
        .notify_complete = eng__op_notify_none, .free = keyed_free,                  \
    }

static const struct eng_op_ops count_ops = KEYED_OPS(count_process);
static const struct eng_op_ops sum_ops = KEYED_OPS(sum_process);
static const struct eng_op_ops reduce_ops = KEYED_OPS(reduce_process);
static const struct eng_op_ops window_ops = KEYED_OPS(window_process);

struct eng_op *eng__op_keyed_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                 char *err, size_t errlen)
{
    const struct eng_op_ops *ops;
    switch (v->kind) {
    case ENG_OP_COUNT:
        ops = &count_ops;
        break;
    case ENG_OP_SUM:
        ops = &sum_ops;
        break;
    case ENG_OP_REDUCE:
        ops = &reduce_ops;
        break;
    default:
        if (v->args.window_ms == 0 || v->args.window_ms > INT64_MAX / 2) {
            snprintf(err, errlen, "window '%s': window_ms %llu is not a usable window size "
                     "(1 .. 2^62 ms)", v->name, (unsigned long long)v->args.window_ms);
            return NULL;
        }
        ops = &window_ops;
        break;
    }
    /* Declared state (see above); the reference model holds none. */
    uint64_t per_key = v->args.declared && v->kind != ENG_OP_WINDOW && !env->reference
                       ? v->args.bytes_per_key : 0;
    bool logical = per_key && env->node && rt_world_kind(rt_node_world(env->node)) == RT_WORLD_SIM;
    if (per_key > ENG_KSTATE_BLOB_MAX && !logical) {
        snprintf(err, errlen, "%s '%s': %llu bytes of declared state a key are above the 2 GiB "
                 "a key's blob can hold", eng_op_kind_name(v->kind), v->name,
                 (unsigned long long)per_key);
        return NULL;
    }
    struct keyed_op *k = (struct keyed_op *)eng__op_alloc(sizeof(*k), ops, v, env);
    k->base.kstate = eng_kstate_new(env->max_parallelism ? env->max_parallelism
                                                         : v->max_parallelism);
    k->per_key = per_key;
    k->logical = logical;
    if (per_key && !logical)
        k->zeros = rt_xcalloc(1, per_key);
    return &k->base;
}
