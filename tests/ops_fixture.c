/* ops_fixture.c - the operator tests' shared helpers (see ops_fixture.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine/jobgraph.h"
#include "engine/kstate.h"
#include "engine/operator.h"
#include "engine/snapshot.h"
#include "runtime/rt.h"
#include "runtime/rt_mem.h"

#include "tests/ops_fixture.h"



/* A one-vertex graph is all eng_op_new needs: the vertex and its args. */
const struct eng_vertex *ops_vertex(struct fixture *f, const char *name,
                                       enum eng_op_kind kind, const struct eng_op_args *a,
                                       uint32_t par, uint32_t maxp)
{
    if (!f->g)
        f->g = eng_jobgraph_new("t");
    int id = eng_jobgraph_add_vertex(f->g, name, kind, a, par, maxp);
    assert_true(id >= 0);
    return eng_jobgraph_vertex(f->g, (uint32_t)id);
}

struct eng_op *ops_new_op(struct fixture *f, const struct eng_vertex *v, uint32_t subtask,
                             uint32_t attempt, struct eng_output *out)
{
    struct eng_op_env env = {.vertex = 0, .subtask = subtask, .parallelism = v->parallelism,
                             .max_parallelism = v->max_parallelism, .attempt = attempt,
                             .output = out};
    struct eng_op *op = eng_op_new(v, &env, f->err, sizeof(f->err));
    if (!op)
        fail_msg("eng_op_new(%s): %s", v->name, f->err);
    return op;
}

int ops_setup(void **state)
{
    *state = rt_xcalloc(1, sizeof(struct fixture));
    return 0;
}

int ops_teardown(void **state)
{
    struct fixture *f = *state;
    eng_jobgraph_free(f->g);
    rt_free(f);
    return 0;
}

void ops_snap_init(struct eng_snap_state *st, uint64_t id, uint32_t maxp)
{
    memset(st, 0, sizeof(*st));
    st->checkpoint_id = id;
    st->max_parallelism = maxp;
    st->kg_first = 0;
    st->kg_last = maxp - 1;
}

/* Snapshots op and encodes the state file, as a task would. */
void ops_snap_encode(struct eng_op *op, uint64_t id, uint8_t **buf, size_t *len)
{
    struct eng_snap_state st;
    ops_snap_init(&st, id, op->vertex->max_parallelism);
    struct eng_kstate *ks = NULL;
    int rc = op->ops->snapshot(op, &st, &ks);
    if (rc != 0)
        fail_msg("snapshot %llu: %d %s", (unsigned long long)id, rc, eng_op_error(op));
    assert_int_equal(eng_snapshot_encode(&st, ks, buf, len), 0);
}

/* Decodes buf into op's key groups [first, last] and restores op from it. */
void ops_restore_from(struct eng_op *op, const uint8_t *buf, size_t len, uint32_t first,
                         uint32_t last)
{
    struct eng_snap_state st;
    char err[256];
    int rc = eng_snapshot_decode(buf, len, "test.state", first, last, op->kstate, &st, err,
                                 sizeof(err));
    if (rc != 0)
        fail_msg("decode: %s", err);
    rc = op->ops->restore(op, &st);
    if (rc != 0)
        fail_msg("restore: %s", eng_op_error(op));
    eng_snap_state_release(&st);
}

struct eng_rvec ops_run(struct eng_op *op, const struct eng_record *in, uint32_t n)
{
    struct eng_rvec out = {0};
    uint64_t stall = 0;
    int rc = op->ops->process(op, in, n, &out, &stall);
    if (rc != 0)
        fail_msg("process: %d %s", rc, eng_op_error(op));
    return out;
}

/* Feeds a sink in[from, to) in runs of 100; a sink emits nothing. */
void ops_feed(struct eng_op *op, const struct eng_record *in, uint32_t from, uint32_t to)
{
    while (from < to) {
        uint32_t n = to - from < 100 ? to - from : 100;
        struct eng_rvec out = ops_run(op, in + from, n);
        assert_int_equal(out.n, 0);
        eng_rvec_free(&out);
        from += n;
    }
}

/* Pulls n records from a source (unthrottled) into rec. */
void ops_pull(struct eng_op *op, struct eng_record *rec, uint32_t n)
{
    struct eng_batch b;
    uint32_t got = 0;
    while (got < n) {
        uint64_t wake;
        assert_int_equal(op->ops->produce(op, 0, &b, &wake), ENG_SRC_MORE);
        assert_true(b.n > 0 && b.n <= ENG_BATCH_CAP && got + b.n <= n);
        memcpy(rec + got, b.rec, b.n * sizeof(*rec));
        got += b.n;
    }
}

