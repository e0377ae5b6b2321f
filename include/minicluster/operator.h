/*
 * operator.h - user-defined sources, operators and sinks for minicluster.
 *
 * A program registers an operator by name, then uses that name in pipeline
 * text - in mc_submit, in mc_run_differential, and in scenarios run by
 * mc_run_scenario from the same program:
 *
 *     static int count_process(struct mc_op_ctx *ctx, void *self,
 *                              const struct mc_record *in, uint32_t n)
 *     {
 *         for (uint32_t i = 0; i < n; i++) {
 *             int64_t c = 0;
 *             int rc = mc_state_get(ctx, in[i].key, &c);
 *             if (rc < 0 && rc != -ENOENT)
 *                 return rc;                   // the task fails with mc_op_errmsg(ctx)
 *             mc_state_put(ctx, in[i].key, ++c);
 *             struct mc_record out = { in[i].key, c, in[i].ts };
 *             mc_emit(ctx, &out);
 *         }
 *         return 0;
 *     }
 *     static const struct mc_operator my_count = {
 *         .name = "my_count", .shape = MC_SHAPE_KEYED, .process = count_process,
 *     };
 *     mc_register_operator(&my_count);
 *     mc_submit(mc, "j", "source=sequence(records=10k, keys=100) | keyby | my_count | sink",
 *               &job);
 *
 * Each operator is a small vtable, as the built-in ones are (it plugs into the
 * engine's own operator contract): open, process a batch (produce, for a
 * source), snapshot, restore, commit, close.  Only process (or produce) is
 * required.  An instance runs once per parallel subtask, on the thread of the
 * TaskManager that hosts it (the caller's thread in the sim world), and every
 * callback of one instance runs on one thread at a time.
 *
 * State.  A MC_SHAPE_KEYED operator keeps state per key through mc_state_*:
 * the engine checkpoints it with the job's checkpoints and, after a failure,
 * restores exactly the keys of the subtask's key groups before the first
 * record.  Any other state of an instance (a source's position, a buffer) is
 * opaque to the engine: snapshot() writes it with mc_snapshot_write, and
 * restore() gets the bytes back.  State kept elsewhere is lost on a crash -
 * mc_run_differential exists to catch that.
 *
 * Memory.  self (self_size bytes, zeroed) and the keyed state belong to the
 * TaskManager: a crash frees them without calling close(), as a real
 * process's memory goes.  What open() mallocs itself leaks on a crash.
 *
 * Errors.  A callback returns 0, or a negative errno: the task fails with the
 * message set by mc_op_fail (or the last failing mc_ call on ctx), and the
 * job takes its normal restart path (the restart strategy of the cluster).
 *
 * Determinism.  The exactly-once verdict (mc_job_info) and the differential
 * oracle compare outputs key by key; they assume a user operator's output is
 * a function of its input records and parameters (no clocks, no unseeded
 * randomness, no order dependence across parallel producers).
 */
#ifndef MINICLUSTER_OPERATOR_H
#define MINICLUSTER_OPERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "minicluster/minicluster.h"

/* A record: what every operator receives and emits. */
struct mc_record {
    uint64_t key;       /* partitioning (keyby) and state key */
    int64_t value;      /* payload */
    int64_t ts;         /* event time, ms */
};

/* What an operator is: decides its place in a pipeline and what the engine
 * checks of what it emits. */
enum mc_op_shape {
    MC_SHAPE_SOURCE,    /* no input; produce() emits; first in a pipeline */
    MC_SHAPE_MAP,       /* exactly one record out per record in */
    MC_SHAPE_FLATMAP,   /* any number of records out per record in */
    MC_SHAPE_FILTER,    /* each record in goes out unchanged, or not at all */
    MC_SHAPE_KEYED,     /* keyed process: input partitioned by key (a hash edge), state
                         * per key through mc_state_*; emits any number */
    MC_SHAPE_SINK,      /* no output; last in a pipeline */
};

/* produce() results besides 0 (emitted records; call again) and -errno. */
#define MC_SOURCE_END 1 /* finished: no records now or ever */

#define MC_OP_NAME_MAX 48   /* operator name, NUL included */

/* Where an instance runs and what it may do now; valid during a callback. */
struct mc_op_ctx;

struct mc_operator {
    const char *name;               /* [A-Za-z_][A-Za-z0-9_]*, not a built-in's name */
    enum mc_op_shape shape;
    size_t self_size;               /* bytes of instance state, zeroed, passed as self */
    void *arg;                      /* yours, for every instance: mc_op_arg(ctx) */
    /* Optional: sets self up; a failure fails the task's deployment. */
    int (*open)(struct mc_op_ctx *ctx, void *self);
    /* Every shape but SOURCE: consumes in[0..n-1], emits with mc_emit. */
    int (*process)(struct mc_op_ctx *ctx, void *self, const struct mc_record *in, uint32_t n);
    /* SOURCE: emits up to max records with mc_emit; returns 0 (call again;
     * emitting none means "nothing yet", and the engine calls again 1 ms
     * later), MC_SOURCE_END, or -errno. */
    int (*produce)(struct mc_op_ctx *ctx, void *self, uint32_t max);
    /* Optional: at a checkpoint, writes the instance's opaque state with
     * mc_snapshot_write (keyed state is saved by the engine). */
    int (*snapshot)(struct mc_op_ctx *ctx, void *self, uint64_t checkpoint_id);
    /* Optional: after a restart from a checkpoint, before any record: the
     * bytes snapshot() wrote for this subtask (len 0: none). */
    int (*restore)(struct mc_op_ctx *ctx, void *self, const void *data, size_t len);
    /* Optional: checkpoint checkpoint_id completed everywhere (a sink's
     * moment to commit what it staged up to that snapshot). */
    void (*commit)(struct mc_op_ctx *ctx, void *self, uint64_t checkpoint_id);
    /* Optional: the instance ends (finished, cancelled, or failed - not when
     * its TaskManager crashes). */
    void (*close)(struct mc_op_ctx *ctx, void *self);
};

/* Registers op under op->name for the whole process (the struct is copied;
 * name too).  Returns 0; -EEXIST for a name already registered; -EINVAL for
 * a NULL op, a bad or built-in name, an unknown shape, or a missing callback
 * (process, or produce for a source); -ENOSPC past 256 operators.
 * mc_errmsg(NULL) says why.  Any thread. */
MC_API int mc_register_operator(const struct mc_operator *op);

/* Emits a record downstream (process, produce).  0; -ENOSPC when a
 * source has emitted max records already; -EPERM outside process/produce or
 * in a sink. */
MC_API int mc_emit(struct mc_op_ctx *ctx, const struct mc_record *r);

/* Keyed state (MC_SHAPE_KEYED, inside process only; key: that of a record
 * being processed).  get: 0, or -ENOENT with *value 0 for a key with no
 * value.  Errors: -EPERM outside a keyed context (another shape, another
 * callback); -EXDEV for a key another subtask owns (it did not arrive
 * through keyby).  Pointers from get_bytes stay valid until the next put or
 * remove. */
MC_API int mc_state_get(struct mc_op_ctx *ctx, uint64_t key, int64_t *value);
MC_API int mc_state_put(struct mc_op_ctx *ctx, uint64_t key, int64_t value);
MC_API int mc_state_get_bytes(struct mc_op_ctx *ctx, uint64_t key, const void **data,
                              uint32_t *len);
MC_API int mc_state_put_bytes(struct mc_op_ctx *ctx, uint64_t key, const void *data,
                              uint32_t len);
MC_API int mc_state_remove(struct mc_op_ctx *ctx, uint64_t key);

/* Appends bytes to this checkpoint's opaque state (inside snapshot only:
 * -EPERM elsewhere; -EFBIG past 64 MiB per subtask). */
MC_API int mc_snapshot_write(struct mc_op_ctx *ctx, const void *data, size_t len);

/* The integer parameter `name` from the pipeline (`my_op(n=1000)`), or dflt. */
MC_API int64_t mc_op_param(const struct mc_op_ctx *ctx, const char *name, int64_t dflt);
MC_API unsigned mc_op_subtask(const struct mc_op_ctx *ctx);
MC_API unsigned mc_op_parallelism(const struct mc_op_ctx *ctx);
MC_API unsigned mc_op_attempt(const struct mc_op_ctx *ctx);   /* 0, +1 per restart */
MC_API void *mc_op_arg(const struct mc_op_ctx *ctx);
MC_API const char *mc_op_name(const struct mc_op_ctx *ctx);
/* Sets the message the task fails with and returns rc (negative), so a
 * callback reads `return mc_op_fail(ctx, -EIO, "bad record %llu", k);`. */
MC_API int mc_op_fail(struct mc_op_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The last message set on ctx (by mc_op_fail or a failing mc_ call), or "". */
MC_API const char *mc_op_errmsg(const struct mc_op_ctx *ctx);

#endif
