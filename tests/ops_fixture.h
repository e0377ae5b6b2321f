/*
 * ops_fixture.h - what the operator tests share (test_operators.c,
 * test_sink.c): a one-vertex graph to build operators from, running them,
 * and snapshot helpers.
 */
#ifndef OPS_FIXTURE_H
#define OPS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/jobgraph.h"
#include "engine/kstate.h"
#include "engine/operator.h"
#include "engine/snapshot.h"

struct fixture {
    struct eng_jobgraph *g;
    char err[256];
};

const struct eng_vertex *ops_vertex(struct fixture *f, const char *name, enum eng_op_kind kind, const struct eng_op_args *a, uint32_t par, uint32_t maxp);
struct eng_op *ops_new_op(struct fixture *f, const struct eng_vertex *v, uint32_t subtask, uint32_t attempt, struct eng_output *out);
int ops_setup(void **state);
int ops_teardown(void **state);
void ops_snap_init(struct eng_snap_state *st, uint64_t id, uint32_t maxp);
void ops_snap_encode(struct eng_op *op, uint64_t id, uint8_t **buf, size_t *len);
void ops_restore_from(struct eng_op *op, const uint8_t *buf, size_t len, uint32_t first, uint32_t last);
struct eng_rvec ops_run(struct eng_op *op, const struct eng_record *in, uint32_t n);
void ops_feed(struct eng_op *op, const struct eng_record *in, uint32_t from, uint32_t to);
void ops_pull(struct eng_op *op, struct eng_record *rec, uint32_t n);

#endif
