/*
 * op_internal.h - what the operator files (operator.c, op_*.c) share: the
 * constructor of each family, the no-op vtable entries, the record hash that
 * makes MAP/FILTER/SOURCE_RANDOM deterministic, and error reporting.
 *
 * Not for use outside engine/op*.c and engine/reference.c.
 */
#ifndef ENG_OP_INTERNAL_H
#define ENG_OP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/operator.h"

/* Constructors: vertex kind already known to belong to the family.  NULL
 * with a reason in err for arguments the kind cannot run with. */
struct eng_op *eng__op_source_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                  char *err, size_t errlen);
struct eng_op *eng__op_basic_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                 char *err, size_t errlen);
struct eng_op *eng__op_keyed_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                 char *err, size_t errlen);
struct eng_op *eng__op_test_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                char *err, size_t errlen);
struct eng_op *eng__op_sink_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                char *err, size_t errlen);
struct eng_op *eng__op_discard_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                   char *err, size_t errlen);
/* A DISCARD instance's count and digest so far (the reference model's way
 * to its receipt; op_discard.c). */
void eng__op_discard_receipt(const struct eng_op *op, uint64_t *records, uint64_t *digest);
/* The sum of the digest terms of r[0..n-1] (op_discard.c); with vector, in
 * AVX-512 where the CPU has it (same result). */
uint64_t eng__discard_digest(const struct eng_record *r, uint32_t n, bool vector);
bool eng__discard_digest_vectorised(void);  /* whether vector can take effect here */

/* A zeroed instance of `size` bytes (>= sizeof(struct eng_op), the base
 * first) with ops, vertex and env filled in; rt_xcalloc, never NULL. */
struct eng_op *eng__op_alloc(size_t size, const struct eng_op_ops *ops,
                             const struct eng_vertex *v, const struct eng_op_env *env);

/* Vtable entries for kinds with nothing to save, restore, commit or free. */
int eng__op_snapshot_none(struct eng_op *op, struct eng_snap_state *st,
                          struct eng_kstate **ks);
int eng__op_restore_none(struct eng_op *op, const struct eng_snap_state *st);
void eng__op_notify_none(struct eng_op *op, uint64_t checkpoint_id);
void eng__op_free_none(struct eng_op *op);

/* Writes "<kind> '<vertex>' subtask S attempt A: <message>" into op->error
 * and returns rc, so failures read `return eng__op_fail(op, -EIO, ...)`. */
int eng__op_fail(struct eng_op *op, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* splitmix64's finaliser: a bijective 64-bit mix.  Every "seeded" built-in
 * draws from it (never from a stateful RNG) so that its output is a pure
 * function of (record, seed) and the reference model reproduces it. */
static inline uint64_t eng__mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1) from the top 53 bits of a hash. */
static inline double eng__unit(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

#endif
