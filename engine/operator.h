/*
 * operator.h - the operator contract between a task and the operators of
 * its chain, the built-in operators, the sink's external system, and the
 * reference model that says what a job's committed output must be.
 *
 * A task (engine/task.c) owns a chain of operator instances.  It feeds each
 * batch through the chain (process), asks sources for batches (produce),
 * snapshots every operator at a checkpoint barrier (snapshot), restores them
 * after a restart (restore), and forwards checkpoint completion
 * (notify_complete).  Operators never block, never sleep, and never touch
 * the world except through the env they are given.
 *
 * Exactly-once: the sink is a two-phase-commit sink, as Flink's Kafka sink
 * is.  Records it receives go straight to the external system (struct
 * eng_output) inside an open transaction of the sink subtask; at snapshot(n)
 * that transaction is pre-committed (when it holds records) and the snapshot
 * stores only the ids of the pending (pre-committed, uncommitted) txns - no
 * records; at notify_complete(m) every pending txn pre-committed at a
 * checkpoint <= m is committed, which makes it visible.  Txn ids order like
 * checkpoints: the txn opened after checkpoint c has id c + 1 and is
 * pre-committed at the next snapshot n >= c + 1.  A restore from checkpoint
 * n commits the snapshot's pending txns (ids <= n; idempotently: committing
 * a committed txn is ignored) and aborts the subtask's txns > n, which only
 * the failed attempt can have staged (the new attempt owns the subtask's
 * transactions again, as Kafka's transactional.id fencing does).  A sink that
 * starts without a restore aborts all of its subtask's pending txns before
 * its first record.  So no record is lost or duplicated in the committed
 * output whatever fails, and eng_output_verify, which sees committed records
 * only, proves it against eng_reference.
 */
#ifndef ENG_OPERATOR_H
#define ENG_OPERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/eng_record.h"
#include "engine/jobgraph.h"
#include "engine/snapshot.h"

struct rt_node;
struct eng_kstate;
struct eng_output;

/* What an operator instance knows of where it runs. */
struct eng_op_env {
    uint32_t job_id;
    uint32_t vertex;            /* job-graph vertex id */
    uint32_t subtask, parallelism, max_parallelism;
    uint32_t attempt;           /* 0 on first deployment, +1 per restart */
    struct rt_node *node;       /* for rt_rand_* (seeded per world), never for time */
    struct eng_output *output;  /* the sink's external system; NULL unless a sink */
    bool reference;             /* true only inside eng_reference: the misbehaving test
                                 * operators (FAIL, STALL, BURN, ALLOC) pass records
                                 * through untouched there */
};

/* A growable run of records, the output of process (flat map may emit more
 * than it receives).  Memory from rt_x*; the task owns and reuses it. */
struct eng_rvec {
    struct eng_record *rec;
    uint32_t n, cap;
};
void eng_rvec_push(struct eng_rvec *v, const struct eng_record *r);
/* Grows v by n records (amortised doubling) and returns the first new slot;
 * the caller fills all n.  The hot-path way to append a batch. */
struct eng_record *eng_rvec_extend(struct eng_rvec *v, uint32_t n);
void eng_rvec_free(struct eng_rvec *v);

/* process() results besides 0 and -errno. */
#define ENG_PROCESS_STALL 1     /* stall the task for *stall_ns, then call again with
                                 * the same batch (nothing was emitted) */

/* How long a rate-limited source holds a due record to fill its batch:
 * Flink's default network buffer timeout (execution.buffer-timeout.interval,
 * 100 ms), after which a partly filled output buffer is flushed. */
#define ENG_SRC_LINGER_NS (100ull * 1000 * 1000)

/* produce() results. */
enum eng_src_status {
    ENG_SRC_MORE,               /* emitted records (out->n > 0) */
    ENG_SRC_WAIT,               /* rate limit: call again at *wake_at_ns */
    ENG_SRC_END,                /* finished: no records now or ever */
    ENG_SRC_ERROR,              /* failed, eng_op_error() says why: the task fails
                                 * (user sources only; the built-ins never fail) */
};

struct eng_op;

struct eng_op_ops {
    /* Sources only: emit up to ENG_BATCH_CAP records into out, given the task's
     * clock now_ns (world time).  The source's position is its state. */
    enum eng_src_status (*produce)(struct eng_op *op, uint64_t now_ns, struct eng_batch *out,
                                   uint64_t *wake_at_ns);
    /* Non-sources: consume in->n records, append results to out.  Returns 0,
     * ENG_PROCESS_STALL, or -errno with eng_op_error() saying why (the task fails). */
    int (*process)(struct eng_op *op, const struct eng_record *in, uint32_t n,
                   struct eng_rvec *out, uint64_t *stall_ns);
    /* Fills st's values for checkpoint st->checkpoint_id (no built-in stages
     * records in st any more: the sink's live in the output) and returns the
     * keyed state to store (NULL for none).  Borrowed until the task has
     * encoded the file. */
    int (*snapshot)(struct eng_op *op, struct eng_snap_state *st, struct eng_kstate **ks);
    /* Restores from a decoded snapshot; the task has already loaded the keyed
     * entries of this subtask's key groups into eng_op_kstate(op). */
    int (*restore)(struct eng_op *op, const struct eng_snap_state *st);
    void (*notify_complete)(struct eng_op *op, uint64_t checkpoint_id);
    /* Releases what the kind owns beyond struct eng_op; eng_op_free calls it,
     * then frees op->kstate and op.  Callers use eng_op_free, never this. */
    void (*free)(struct eng_op *op);
};
/* Every instance from eng_op_new has snapshot, restore, notify_complete and
 * free set; produce is set exactly for sources, process for every other kind. */

struct eng_op {
    const struct eng_op_ops *ops;
    const struct eng_vertex *vertex;    /* borrowed from the job graph */
    struct eng_op_env env;
    struct eng_kstate *kstate;          /* keyed operators; NULL otherwise */
    char error[256];                    /* why process/restore failed */
};

/* Creates an instance of vertex v for env (allocations on the current node).
 * Returns NULL, with a reason in err, for a kind with no implementation or
 * arguments the kind cannot run with (WINDOW with window_ms 0, FLATMAP with
 * fanout 0, a SINK without env->output, a DISCARD without it outside the reference,
 * ALLOC above 4 GiB per key). */
struct eng_op *eng_op_new(const struct eng_vertex *v, const struct eng_op_env *env,
                          char *err, size_t errlen);
/* Frees an instance and its keyed state; NULL is a no-op.  Also the way to
 * "crash" an operator: nothing is committed or flushed. */
void eng_op_free(struct eng_op *op);
/* A zeroed instance of `size` bytes (>= sizeof(struct eng_op), struct eng_op
 * first) with ops, vertex and env filled in; allocated on the current node
 * (rt_xcalloc), never NULL, freed by eng_op_free.  How a user operator kind's
 * create builds its instances, as the built-in families do. */
struct eng_op *eng_op_alloc(size_t size, const struct eng_op_ops *ops,
                            const struct eng_vertex *v, const struct eng_op_env *env);

/* ---- operator kinds a program registers ------------------------------------ */

/* A user operator kind: the layer above (api/) implements create on top of
 * this very vtable; the engine only dispatches to it.  A vertex of kind
 * USER_* names its kind in args.user.  A registered kind lives until the
 * process ends (vertices and pipelines keep pointers to it). */
struct eng_user_kind {
    const char *name;           /* as written in pipelines; unique */
    enum eng_op_kind kind;      /* ENG_OP_USER_SOURCE, _USER, _USER_KEYED or _USER_SINK */
    /* Creates an instance for vertex v (args.user == this kind) with
     * eng_op_alloc, or returns NULL with a reason in err.  Called on the
     * task's node thread, or on the caller's inside eng_reference. */
    struct eng_op *(*create)(const struct eng_user_kind *uk, const struct eng_vertex *v,
                             const struct eng_op_env *env, char *err, size_t errlen);
    void *arg;                  /* the registrant's */
};
#define ENG_USER_KINDS_MAX 256  /* registered kinds per process */
/* Registers uk (kept by pointer: it must outlive every job).  Returns 0;
 * -EEXIST for a name already registered, -ENOSPC past ENG_USER_KINDS_MAX,
 * -EINVAL for a NULL or empty name, a kind that is not USER_*, or no
 * create.  Any thread. */
int eng_user_kind_register(const struct eng_user_kind *uk);
/* The kind registered as name, or NULL.  Any thread. */
const struct eng_user_kind *eng_user_kind_find(const char *name);
static inline struct eng_kstate *eng_op_kstate(struct eng_op *op) { return op->kstate; }
static inline const char *eng_op_error(const struct eng_op *op) { return op->error; }

/* ---- the sink's external system ------------------------------------------- */

/* Lives outside every node (plain malloc, a mutex): it is the database the job
 * writes to, and it must survive any crash - pending txns included, as a
 * real database keeps an open transaction when its client dies.  Every
 * function below may be called from any thread.  Txns belong to a sink
 * subtask (vertex, subtask), whatever attempt or instance stages them; the
 * instance that fenced last is the only one that may stage. */
struct eng_output *eng_output_new(void);
void eng_output_free(struct eng_output *o);
/* Appends n records to pending txn `txn` of (vertex, subtask), opening it
 * when absent (n 0 opens nothing).  Staged records are invisible until
 * eng_output_commit_txn.  Reusing the id of a txn already committed opens a
 * new txn (only a restore from a checkpoint older than a committed one does
 * that, and verification then reports the duplicates).  epoch is the one
 * eng_output_fence gave the staging instance (0 if it never fenced).
 * Returns 0, or -ESTALE when the subtask's current epoch is another: a newer
 * instance fenced it, and nothing is staged. */
int eng_output_stage(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint32_t epoch,
                     uint64_t txn, const struct eng_record *rec, uint32_t n);
/* Commits pending txn `txn` of (vertex, subtask): its records become visible
 * at once for every reader.  0 with *applied (may be NULL) true; 0 with
 * *applied false when there is no such pending txn and the subtask already
 * committed a txn >= txn (a repeated commit: ignored); -ENOENT when there is
 * no such txn at all (never staged, or aborted). */
int eng_output_commit_txn(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                          bool *applied);
/* Discards every pending txn of (vertex, subtask) with id > txn; returns the
 * records discarded. */
uint64_t eng_output_abort_after(struct eng_output *o, uint32_t vertex, uint32_t subtask,
                                uint64_t txn);
/* Fences (vertex, subtask) for a new sink instance, as a transactional
 * producer's initialisation does in Kafka: discards its pending txns > txn
 * (*dropped, may be NULL, says how many records) and returns a new epoch,
 * one above the last.  From then on stages must carry that epoch: those of
 * an older instance - a zombie of a failed attempt still running for a
 * moment, which would otherwise add to the txns its successor reuses -
 * fail with -ESTALE.  Stages with epoch 0 are for an owner nobody fenced. */
uint32_t eng_output_fence(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                          uint64_t *dropped);
/* Stages n records and commits them as txn `txn` in one step (the reference
 * model's way in): ignored (returns 0, *applied false) when that subtask
 * already committed a txn >= txn. */
int eng_output_commit(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint64_t txn,
                      const struct eng_record *rec, uint32_t n, bool *applied);
/* A DISCARD sink's receipt: publishes that (vertex, subtask) had received
 * `records` records with additive digest `digest` (op_discard.c) when
 * checkpoint `chk` was taken, once that checkpoint has completed.  The
 * receipt of the highest chk stands; an older or equal one is ignored.
 * epoch as for eng_output_stage: -ESTALE from a fenced-off instance. */
int eng_output_publish(struct eng_output *o, uint32_t vertex, uint32_t subtask, uint32_t epoch,
                       uint64_t chk, uint64_t records, uint64_t digest);
/* The standing receipts summed over every DISCARD subtask: records, and
 * digests added modulo 2^64 (so a sum over subtasks does not depend on how
 * records were spread among them).  Both 0 when none was published. */
void eng_output_receipts(const struct eng_output *o, uint64_t *records, uint64_t *digest);
/* Committed so far: records of committed txns plus standing receipts. */
uint64_t eng_output_records(const struct eng_output *o);
uint64_t eng_output_pending_records(const struct eng_output *o); /* staged, uncommitted */
/* The highest txn committed by sink subtask (vertex, subtask), or 0 for none
 * (checkpoint ids, hence txn ids, start at 1). */
uint64_t eng_output_committed_txn(const struct eng_output *o, uint32_t vertex, uint32_t subtask);

/* What the output holds for one key.  `max` is the aggregate verification
 * compares: every built-in keeps values non-negative and running aggregates
 * (count, sum, max) only grow, so the largest committed value is the final
 * aggregate whatever order parallel sink subtasks commit in; `last` (the
 * value committed last) is kept for inspection only. */
struct eng_output_key {
    uint64_t key;
    uint64_t records;       /* committed records with this key */
    int64_t last, max;
};
/* 0 and *out filled, or -ENOENT for a key never committed.  Any thread. */
int eng_output_key(const struct eng_output *o, uint64_t key, struct eng_output_key *out);
uint64_t eng_output_key_count(const struct eng_output *o);    /* distinct keys */
/* Calls fn for every key, in no particular order, holding o's lock: fn must
 * not call into o itself (another output is fine). */
void eng_output_foreach(const struct eng_output *o,
                        void (*fn)(const struct eng_output_key *k, void *arg), void *arg);

/* ---- the reference: what the committed output must be ---------------------- */

/* Per key: how many records reach the sink and the final aggregate. */
struct eng_expected;
/* Runs the job graph's operators on one thread with no failures (bounded
 * sources only) and records what the sink must hold.  -EINVAL with err for an
 * unbounded source or an operator whose output is not deterministic. */
int eng_reference(const struct eng_jobgraph *g, struct eng_expected **out, char *err, size_t errlen);
/* As eng_reference, but the table may be shared: a process-wide cache keyed
 * by the graph's full description (every vertex's kind, name, parallelism
 * and arguments, every edge) returns the table computed for an identical
 * graph before - explore's seeds, a determinism check's second run.  With
 * *shared set the caller must not free it (it lives until the process
 * exits); otherwise it is the caller's, as from eng_reference.  Graphs with
 * user operators are never cached.  Any thread. */
int eng_reference_shared(const struct eng_jobgraph *g, struct eng_expected **out, bool *shared,
                         char *err, size_t errlen);
/* Starts computing the shared tables of graphs g[0..n) on a thread of its
 * own, so that a run's verdict finds them in the cache.  Takes the graphs
 * (NULL entries allowed); graphs the cache would not take (user operators)
 * or already holds are skipped.  Join before the verdict; join frees the
 * graphs.  Never fails: without a thread the verdict computes its tables. */
struct eng_reference_warmer;
struct eng_reference_warmer *eng_reference_warm(struct eng_jobgraph **g, size_t n);
void eng_reference_warm_join(struct eng_reference_warmer *w);
/* True when the cache holds g's table.  Any thread. */
bool eng_reference_cached(const struct eng_jobgraph *g);
void eng_expected_free(struct eng_expected *e);
uint64_t eng_expected_records(const struct eng_expected *e);
/* What the sink must hold for one key: 0, or -ENOENT for a key that must not
 * appear at all. */
int eng_expected_key(const struct eng_expected *e, uint64_t key, struct eng_output_key *out);

struct eng_verdict {
    uint64_t expected, committed;   /* records */
    uint64_t lost, duplicated;      /* summed over keys: max(0, exp-got), max(0, got-exp) */
    uint64_t wrong_values;          /* keys whose final aggregate (max) differs */
    bool exactly_once;              /* lost == duplicated == wrong_values == 0 */
};
/* Compares o's committed records with e; pending (staged, uncommitted) txns
 * count for nothing, exactly as a reader of the real database sees them. */
void eng_output_verify(const struct eng_output *o, const struct eng_expected *e,
                       struct eng_verdict *out);

#endif
