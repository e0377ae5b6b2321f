/*
 * op_basic.c - the stateless operators MAP, FILTER, FLATMAP and KEYBY.
 *
 * Each is a pure function of the record and args.seed (no RNG state, no
 * clock), so replaying the same input after a restore gives the same output
 * and eng_reference reproduces it exactly:
 *
 *   MAP      value += mix(key ^ seed) & 0xff          key and ts unchanged
 *   FILTER   keeps r iff unit(mix(key ^ mix(value ^ mix(ts ^ seed)))) < probability
 *            (probability 0 keeps nothing, 1 keeps everything)
 *   FLATMAP  emits fanout records (key, value + j, ts) for j = 0 .. fanout-1
 *   KEYBY    key = key % keys (unchanged when keys is 0)
 *
 * None of them makes a non-negative value negative (short of overflow),
 * which the verification rule (largest committed value per key) relies on.
 */
#include <stdio.h>

#include "engine/op_internal.h"
#include "engine/operator.h"

static int map_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                       struct eng_rvec *out, uint64_t *stall_ns)
{
    uint64_t seed = op->vertex->args.seed;
    struct eng_record *o = eng_rvec_extend(out, n);
    for (uint32_t i = 0; i < n; i++) {
        o[i] = in[i];
        o[i].value += (int64_t)(eng__mix64(in[i].key ^ seed) & 0xff);
    }
    return 0;
}

static int filter_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                          struct eng_rvec *out, uint64_t *stall_ns)
{
    uint64_t seed = op->vertex->args.seed;
    double keep = op->vertex->args.probability;
    struct eng_record *o = eng_rvec_extend(out, n);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t h = eng__mix64(in[i].key ^
                                eng__mix64((uint64_t)in[i].value ^
                                           eng__mix64((uint64_t)in[i].ts ^ seed)));
        /* Written always, kept by the count: whether a record passes is a
         * coin flip, and a branch on it mispredicts half the time. */
        o[k] = in[i];
        k += eng__unit(h) < keep;
    }
    out->n -= n - k;    /* give back the slots the filter did not use */
    return 0;
}

static int flatmap_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                           struct eng_rvec *out, uint64_t *stall_ns)
{
    uint32_t f = op->vertex->args.fanout;
    for (uint32_t i = 0; i < n; i++) {
        struct eng_record *o = eng_rvec_extend(out, f);
        for (uint32_t j = 0; j < f; j++) {
            o[j] = in[i];
            o[j].value += j;
        }
    }
    return 0;
}

static int keyby_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                         struct eng_rvec *out, uint64_t *stall_ns)
{
    uint64_t keys = op->vertex->args.keys;
    struct eng_record *o = eng_rvec_extend(out, n);
    for (uint32_t i = 0; i < n; i++) {
        o[i] = in[i];
        if (keys)
            o[i].key %= keys;
    }
    return 0;
}

#define BASIC_OPS(fn)                                                                       \
    {                                                                                       \
        .process = fn, .snapshot = eng__op_snapshot_none, .restore = eng__op_restore_none, \
        .notify_complete = eng__op_notify_none, .free = eng__op_free_none,                 \
    }

static const struct eng_op_ops map_ops = BASIC_OPS(map_process);
static const struct eng_op_ops filter_ops = BASIC_OPS(filter_process);
static const struct eng_op_ops flatmap_ops = BASIC_OPS(flatmap_process);
static const struct eng_op_ops keyby_ops = BASIC_OPS(keyby_process);

struct eng_op *eng__op_basic_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                 char *err, size_t errlen)
{
    const struct eng_op_ops *ops;
    switch (v->kind) {
    case ENG_OP_MAP:
        ops = &map_ops;
        break;
    case ENG_OP_FILTER:
        if (!(v->args.probability >= 0.0 && v->args.probability <= 1.0)) {
            snprintf(err, errlen, "filter '%s': probability %g is outside [0, 1]", v->name,
                     v->args.probability);
            return NULL;
        }
        ops = &filter_ops;
        break;
    case ENG_OP_FLATMAP:
        if (v->args.fanout == 0) {
            snprintf(err, errlen, "flatmap '%s': fanout is 0 (it must emit at least one "
                     "record per input; use filter to drop records)", v->name);
            return NULL;
        }
        ops = &flatmap_ops;
        break;
    default:
        ops = &keyby_ops;
        break;
    }
    return eng__op_alloc(sizeof(struct eng_op), ops, v, env);
}
