/*
 * operator.c - eng_op_new's dispatch to the operator families, the record
 * vector every process() appends to, and the helpers the families share.
 *
 * Each family lives in its own file (op_source.c, op_basic.c, op_keyed.c,
 * op_test.c, op_sink.c) and embeds struct eng_op as the first member of its
 * instance, so a struct eng_op * converts to the family's type and back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kstate.h"
#include "engine/op_internal.h"
#include "engine/operator.h"
#include "runtime/rt_mem.h"

#define RVEC_MIN_CAP ENG_BATCH_CAP /* a first growth holds one whole batch */

static void rvec_grow(struct eng_rvec *v, uint64_t need)
{
    uint64_t cap = v->cap ? v->cap : RVEC_MIN_CAP;
    while (cap < need)
        cap *= 2;
    /* A vector past 2^32 records means an operator ran away (a flat map with
     * a huge fan-out): an invariant, not a recoverable error. */
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    if (need > cap)
        abort();
    v->rec = rt_xrealloc(v->rec, (size_t)cap * sizeof(*v->rec));
    v->cap = (uint32_t)cap;
}

/* Appends one record, growing by doubling.  Owner's node; never fails. */
void eng_rvec_push(struct eng_rvec *v, const struct eng_record *r)
{
    if (v->n == v->cap)
        rvec_grow(v, (uint64_t)v->n + 1);
    v->rec[v->n++] = *r;
}

/* Reserves and returns n new slots at the end; see operator.h. */
struct eng_record *eng_rvec_extend(struct eng_rvec *v, uint32_t n)
{
    if ((uint64_t)v->n + n > v->cap)
        rvec_grow(v, (uint64_t)v->n + n);
    struct eng_record *r = v->rec + v->n;
    v->n += n;
    return r;
}

/* Frees the records and empties v (it may be reused). */
void eng_rvec_free(struct eng_rvec *v)
{
    rt_free(v->rec);
    v->rec = NULL;
    v->n = v->cap = 0;
}

struct eng_op *eng__op_alloc(size_t size, const struct eng_op_ops *ops,
                             const struct eng_vertex *v, const struct eng_op_env *env)
{
    struct eng_op *op = rt_xcalloc(1, size);
    op->ops = ops;
    op->vertex = v;
    op->env = *env;
    return op;
}

struct eng_op *eng_op_alloc(size_t size, const struct eng_op_ops *ops,
                            const struct eng_vertex *v, const struct eng_op_env *env)
{
    return eng__op_alloc(size, ops, v, env);
}

int eng__op_snapshot_none(struct eng_op *op, struct eng_snap_state *st,
                          struct eng_kstate **ks)
{
    *ks = NULL;
    return 0;
}

int eng__op_restore_none(struct eng_op *op, const struct eng_snap_state *st)
{
    return 0;
}

void eng__op_notify_none(struct eng_op *op, uint64_t checkpoint_id)
{
}

void eng__op_free_none(struct eng_op *op)
{
}

int eng__op_fail(struct eng_op *op, int rc, const char *fmt, ...)
{
    int n = snprintf(op->error, sizeof(op->error), "%s '%s' subtask %u attempt %u: ",
                     eng_op_kind_name(op->vertex->kind), op->vertex->name, op->env.subtask,
                     op->env.attempt);
    if (n < 0 || (size_t)n >= sizeof(op->error))
        return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->error + n, sizeof(op->error) - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

/* Creates an instance of vertex v; see operator.h.  The family constructor
 * checks the kind's arguments; an unknown kind is reported here. */
struct eng_op *eng_op_new(const struct eng_vertex *v, const struct eng_op_env *env,
                          char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    switch (v->kind) {
    case ENG_OP_SOURCE_SEQUENCE:
    case ENG_OP_SOURCE_RANDOM:
        return eng__op_source_new(v, env, err, errlen);
    case ENG_OP_MAP:
    case ENG_OP_FILTER:
    case ENG_OP_FLATMAP:
    case ENG_OP_KEYBY:
        return eng__op_basic_new(v, env, err, errlen);
    case ENG_OP_COUNT:
    case ENG_OP_SUM:
    case ENG_OP_REDUCE:
    case ENG_OP_WINDOW:
        return eng__op_keyed_new(v, env, err, errlen);
    case ENG_OP_FAIL:
    case ENG_OP_STALL:
    case ENG_OP_BURN:
    case ENG_OP_ALLOC:
        return eng__op_test_new(v, env, err, errlen);
    case ENG_OP_SINK:
        return eng__op_sink_new(v, env, err, errlen);
    case ENG_OP_DISCARD:
        return eng__op_discard_new(v, env, err, errlen);
    case ENG_OP_USER_SOURCE:
    case ENG_OP_USER:
    case ENG_OP_USER_KEYED:
    case ENG_OP_USER_SINK:
        if (v->args.user && v->args.user->kind == v->kind)
            return v->args.user->create(v->args.user, v, env, err, errlen);
        if (err && errlen)
            snprintf(err, errlen, "vertex '%s': %s without a registered operator of that "
                     "kind", v->name, eng_op_kind_name(v->kind));
        return NULL;
    case ENG_OP_KIND_COUNT:
        break;
    }
    if (err && errlen)
        snprintf(err, errlen, "vertex '%s': operator kind %d has no implementation",
                 v->name, (int)v->kind);
    return NULL;
}

void eng_op_free(struct eng_op *op)
{
    if (!op)
        return;
    op->ops->free(op);
    eng_kstate_free(op->kstate);
    rt_free(op);
}
