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
 * All state is keyed, so snapshot hands over the kstate and restore has
 * nothing to do: the task has already loaded this subtask's key groups.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/kstate.h"
#include "engine/op_internal.h"
#include "engine/operator.h"

static int count_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                         struct eng_rvec *out, uint64_t *stall_ns)
{
    eng_kstate_aggregate_batch(op->kstate, ENG_KSTATE_COUNT, in, n, eng_rvec_extend(out, n));
    return 0;
}

static int sum_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                       struct eng_rvec *out, uint64_t *stall_ns)
{
    eng_kstate_aggregate_batch(op->kstate, ENG_KSTATE_SUM, in, n, eng_rvec_extend(out, n));
    return 0;
}

/* REDUCE is a running max. */
static int reduce_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                          struct eng_rvec *out, uint64_t *stall_ns)
{
    eng_kstate_aggregate_batch(op->kstate, ENG_KSTATE_MAX, in, n, eng_rvec_extend(out, n));
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

#define KEYED_OPS(fn)                                                                 \
    {                                                                                 \
        .process = fn, .snapshot = keyed_snapshot, .restore = eng__op_restore_none,  \
        .notify_complete = eng__op_notify_none, .free = eng__op_free_none,           \
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
    struct eng_op *op = eng__op_alloc(sizeof(struct eng_op), ops, v, env);
    op->kstate = eng_kstate_new(env->max_parallelism ? env->max_parallelism
                                                     : v->max_parallelism);
    return op;
}
