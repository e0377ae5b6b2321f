/*
 * task_internal.h - what task.c (lifecycle, the step, restore, messages) and
 * task_out.c (routing to channels, control slots, snapshots) share.
 */
#ifndef ENG_TASK_INTERNAL_H
#define ENG_TASK_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/job.h"
#include "engine/operator.h"

struct dfs_done;

#define STEP_BATCHES 8
#define LIVENESS_NS (100 * RT_NS_PER_MS)
#define SNAPS_MAX 4

enum { TAG_SOURCE_WAKE = 1, TAG_STALL_END, TAG_LIVENESS };

struct in_port {
    struct eng_chan *c;
    uint64_t aligned;           /* barrier id this input has delivered (blocked while aligning) */
    bool ended;
};

struct out_edge {
    enum eng_edge_kind kind;
    uint32_t par, maxp;         /* the consumer vertex's, for HASH */
    uint32_t nch;
    struct eng_chan **ch;       /* by consumer subtask */
    struct eng_slot **open;     /* claimed, partly filled slot per channel, or NULL */
    uint32_t rr;
};

struct snap_job {
    uint64_t chk;               /* 0: free */
    uint32_t outstanding;       /* DFS operations still running */
    uint32_t n;
    bool failed;
    char reason[160];
    struct eng_meta_entry e[ENG_CHAIN_MAX];
};

/* An operator's files of a snapshot that succeeded: what a later
 * incremental snapshot based on that checkpoint may refer to. */
struct snap_rec {
    uint64_t chk;               /* 0: free */
    uint32_t n;
    struct {
        uint32_t vertex;
        uint32_t n_files;       /* its own file, then the files it refers to */
        struct eng_snap_fileref files[ENG_SNAP_REFS_MAX + 1];
    } op[ENG_CHAIN_MAX];
};

/* One operator's restore: its state file and the files that one refers
 * to, read before it is decoded. */
struct restoring {
    struct eng_meta_entry e;
    uint32_t left;              /* reads still out */
    void *buf[ENG_SNAP_REFS_MAX + 1];
    size_t len[ENG_SNAP_REFS_MAX + 1];
    uint64_t payload[ENG_SNAP_REFS_MAX + 1];    /* logical bytes read, checked */
};

struct task {
    struct rt_actor *self;
    struct eng_job *job;
    struct eng_attempt *att;
    uint32_t id, attempt;
    rt_addr runner;
    const struct eng_task *t;
    const struct eng_chain *chain;
    struct eng_op *ops[ENG_CHAIN_MAX];
    uint32_t nops;
    bool is_source, is_sink;
    enum eng_task_state st;

    uint32_t nin, next_in;
    struct in_port *in;
    uint32_t nout;
    struct out_edge *out;

    struct eng_rvec buf[2];     /* chain intermediates */
    struct eng_rvec pend;       /* chain output waiting for room */
    uint32_t pend_off;
    bool pend_barrier, pend_end;
    uint64_t pend_chk, barrier_base;
    struct eng_rvec stall_in;   /* input of the stalled operator */
    uint32_t stall_op;
    bool stalled, step_queued, src_timer, src_ended;
    bool end_queued;            /* END waits in pend_end; ENDED once it is out */
    struct eng_batch src;

    uint64_t align_chk;
    uint32_t aligned_n;
    uint64_t last_barrier, last_notified;
    struct snap_job snaps[SNAPS_MAX];
    struct snap_rec *recs;      /* SNAPS_MAX, newest last; incremental jobs only */
    uint64_t restore_chk;
    uint32_t restore_left;
    struct restoring *rs;       /* per restored operator, while restoring */
    uint32_t nrs;
    uint64_t records_in, records_out;
    /* Where the running task's time goes (enum eng_task_time; NONE: not
     * running yet), the open interval's start and the closed ones' sums,
     * published in struct eng_task_io. */
    uint8_t tmode;
    uint64_t tsince, t_idle, t_bp;
};

void eng__task_fail(struct task *k, bool restore, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* task_out.c */
bool eng__task_route_pending(struct task *k);
struct eng_batch *eng__task_direct_batch(struct task *k);
void eng__task_direct_done(struct task *k);
void eng__task_flush_open(struct task *k);
bool eng__task_emit_control(struct task *k, enum eng_slot_kind kind, uint64_t chk);
bool eng__task_unblock(struct task *k);
void eng__task_checkpoint_here(struct task *k, uint64_t chk, uint64_t base);
void eng__task_on_barrier(struct task *k, uint32_t port, uint64_t chk, uint64_t base);
/* The name of the state file of one operator subtask at checkpoint chk. */
void eng__task_state_file(const struct task *k, uint64_t chk, uint32_t vertex, uint32_t subtask,
                          char *out, size_t n);
void eng__task_snap_finish(struct task *k, struct snap_job *sj);
void eng__task_on_snapshot_io(struct task *k, const struct dfs_done *d);

/* The task's time is MODE from now on (task.c); the time since the last
 * change goes to what it was.  No clock is read while it stays the same,
 * and nothing is counted before eng__task_time_start. */
void eng__task_time_change(struct task *k, enum eng_task_time mode);
void eng__task_time_start(struct task *k);
static inline void eng__task_time(struct task *k, enum eng_task_time mode)
{
    if (k->tmode != mode && k->tmode != ENG_TASK_TIME_NONE && k->tmode != ENG_TASK_TIME_ENDED)
        eng__task_time_change(k, mode);
}

/* Publishes the task's counters (struct eng_task_io) unless a newer attempt
 * of it has been deployed: then those are the newer instance's. */
static inline void eng__task_io(struct task *k)
{
    struct eng_task_io *io = &k->job->task_io[k->id];
    if (atomic_load_explicit(&io->attempt, memory_order_relaxed) != k->attempt)
        return;
    atomic_store_explicit(&io->records_in, k->records_in, memory_order_relaxed);
    atomic_store_explicit(&io->records_out, k->records_out, memory_order_relaxed);
}

#endif
