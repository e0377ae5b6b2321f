/*
 * job.h - a job as the engine runs it: the shared job object, the messages
 * between a job's runner and its tasks, and the task entry point.
 *
 * Who lives where:
 *   struct eng_job      process memory, created by the caller (a test, the
 *                       cluster), shared read-only by the job's actors; it
 *                       survives any node's crash and is freed by its creator
 *                       once the world is stopped.
 *   jobrun actor        one per job, on a JobManager node (jobrun.h): deploys
 *                       tasks, coordinates checkpoints, restarts on failure.
 *   task actors         one per parallel task, on TaskManager nodes (task.c).
 *   channels            per attempt, process memory (channel.h).
 *
 * Every message between the runner and a task carries the task's attempt
 * number (per task: a region restart redeploys some tasks and leaves the
 * others on their attempt); each side ignores anything from an attempt it
 * has left behind, so a slow or dying task of an old attempt cannot disturb
 * a new one.
 */
#ifndef ENG_JOB_H
#define ENG_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/channel.h"
#include "engine/jobgraph.h"
#include "engine/snapshot.h"
#include "runtime/rt.h"

struct dfs;
struct eng_output;
struct eng_expected;

#define ENG_CHAIN_MAX 16    /* operators in one chain */

enum {
    ENG_MSG_DEPLOY = RT_MSG_USER + 101,     /* -> task host: struct eng_deploy */
    ENG_MSG_TASK_STEP,                      /* task -> itself: keep working */
    ENG_MSG_TRIGGER,                        /* runner -> source task: struct eng_trigger */
    ENG_MSG_NOTIFY,                         /* runner -> task: struct eng_notify */
    ENG_MSG_CANCEL,                         /* runner -> task: uint32_t attempt */
    ENG_MSG_TASK_STATUS,                    /* task -> runner: struct eng_task_status */
    ENG_MSG_TASK_ACK,                       /* task -> runner: struct eng_ack + entries */
    ENG_MSG_JOB_FAIL,                       /* owner -> runner: a reason string; the
                                             * whole job failed (every task restarts) */
    ENG_MSG_JOB_CANCEL,                     /* owner -> runner: cancel the job */
    ENG_MSG_JOB_PROCEED,                    /* owner -> runner: resources are ready (see
                                             * eng_jobrun_policy.prepare) */
    ENG_MSG_TASKS_FAIL,                     /* owner -> runner: struct eng_tasks_fail (e.g.
                                             * the tasks in a lost TaskManager's slots) */
};

/* Flink's checkpointing knobs, by their configuration keys. */
struct eng_job_config {
    uint64_t checkpoint_interval_ns;    /* execution.checkpointing.interval; 0: final only */
    uint64_t checkpoint_timeout_ns;     /* execution.checkpointing.timeout (10 min) */
    uint64_t min_pause_ns;              /* execution.checkpointing.min-pause (0) */
    uint32_t max_concurrent;            /* execution.checkpointing.max-concurrent-checkpoints (1) */
    uint32_t tolerable_failed;          /* execution.checkpointing.tolerable-failed-checkpoints (0) */
    uint32_t num_retained;              /* state.checkpoints.num-retained (1) */
    bool incremental;                   /* execution.checkpointing.incremental (false):
                                         * state files refer to the blobs of earlier ones */
    uint32_t chan_slots;                /* batches per channel ring; 0: by world
                                         * (ENG_CHAN_SLOTS, sim ENG_CHAN_SLOTS_SIM) */
    /* state.backend.type=rocksdb: a restore downloads each state file as
     * SST files of this size (compaction.level.target-file-size-base,
     * 64 MB), through restore_threads parallel streams per stateful
     * operator (checkpoint.transfer.thread.num, 4).  0: one stream per file
     * (hashmap: the state handle is read as one stream). */
    uint64_t restore_part_bytes;
    uint32_t restore_threads;
    uint64_t inline_bytes;              /* state.storage.fs.memory-threshold: state files
                                         * smaller travel inside _metadata (0: none) */
    bool local_recovery;                /* state.backend.local-recovery (false): a task
                                         * back on the TaskManager that wrote its
                                         * snapshot restores from its local copy */
};
void eng_job_config_defaults(struct eng_job_config *c);

enum eng_job_state {
    ENG_JOB_CREATED, ENG_JOB_RUNNING, ENG_JOB_FAILING, ENG_JOB_RESTARTING,
    ENG_JOB_FINISHED, ENG_JOB_FAILED, ENG_JOB_CANCELED,
};
const char *eng_job_state_name(enum eng_job_state s);

/* One attempt's channels, indexed like the execution graph's channels.  A
 * partial (region) restart makes new channels only where a restarted task
 * sits at either end and reuses the running ones, so a channel may appear in
 * several attempts: owns[c] is set in the attempt that created chans[c],
 * which alone frees it (and alone counts it when summing over attempts). */
struct eng_attempt {
    uint32_t attempt;
    uint32_t nchans;
    struct eng_chan **chans;
    uint8_t *owns;
    struct eng_attempt *next;
};

struct eng_job {
    uint32_t id;
    char name[64];
    char dir[96];                       /* DFS folder of its checkpoints ("job-<id>") */
    struct eng_jobgraph *graph;         /* owned */
    struct eng_execgraph *eg;           /* owned */
    struct eng_job_config cfg;
    struct dfs *dfs;                    /* borrowed: where checkpoints go */
    struct eng_output *output;          /* owned: the sinks' external system */
    struct eng_attempt *attempts;       /* owned; written by the runner only */

    /* What tests and reports read from any thread. */
    atomic_int state;                   /* enum eng_job_state */
    atomic_uint restarts;
    atomic_uint tasks_restarted;        /* tasks redeployed by restarts, full or region */
    atomic_uint_fast64_t last_checkpoint;       /* id of the latest completed */
    atomic_uint checkpoints_completed, checkpoints_failed, restores_fell_back;
    atomic_uint deletes_pending;        /* checkpoint directories asked to go, not yet gone */
    atomic_uint_fast64_t records_in;   /* emitted by sources, all attempts */
    atomic_uint_fast64_t records_out;  /* received by sink tasks, all attempts */
    _Atomic(struct eng_job_event *) events;     /* newest first; see below */
    /* Checkpoint statistics (Flink's CheckpointStatsTracker, for the REST API
     * and metrics): pending now, and each ended checkpoint, newest first. */
    atomic_uint checkpoints_in_progress;
    _Atomic(struct eng_checkpoint_stat *) checkpoint_stats;
    struct eng_task_io *task_io;        /* owned: one per execution-graph task */
};

/* A task's counters for outside readers (REST, metrics), as Flink's task
 * metrics count them: the current attempt's only (a redeployment starts from
 * 0).  Written by that attempt's instance alone, records once per batch and
 * times when the task changes between busy, idle and back-pressured; one
 * cache line each, so tasks on different threads do not share one. */
struct eng_task_io {
    _Atomic uint32_t attempt;           /* the attempt deployed last (its instance writes) */
    _Atomic uint32_t time_mode;         /* enum eng_task_time of the open interval */
    atomic_uint_fast64_t records_in;    /* taken in (a source: records it generated) */
    atomic_uint_fast64_t records_out;   /* sent on its output channels */
    atomic_uint_fast64_t run_ns;        /* world time it started running */
    atomic_uint_fast64_t idle_ns;       /* closed intervals waiting for input */
    atomic_uint_fast64_t bp_ns;         /* closed intervals waiting for room on an output */
    atomic_uint_fast64_t since_ns;      /* start of the open interval */
    char pad[8];
};

/* Where a running task's time goes, as Flink's task metrics split it:
 * waiting for input (idle: idleTimeMsPerSecond), waiting for room on an
 * output (back-pressured: backPressuredTimeMsPerSecond), or neither (busy,
 * the rest: busyTimeMsPerSecond).  ENDED: the task stopped; its times stand. */
enum eng_task_time {
    ENG_TASK_TIME_NONE,         /* not running yet: nothing counted */
    ENG_TASK_TIME_BUSY, ENG_TASK_TIME_IDLE, ENG_TASK_TIME_BP, ENG_TASK_TIME_ENDED
};

/* The accumulated busy, idle and back-pressured time of the attempt io
 * counts, in ns of world time up to now (the end, once it stopped); all 0
 * before it runs.  Read while the task changes, a figure may be off by the
 * interval that is closing; busy is never below 0. */
void eng_task_io_times(const struct eng_task_io *io, uint64_t now, uint64_t *busy,
                       uint64_t *idle, uint64_t *bp);

/* One ended checkpoint, appended by the runner when it completes or fails and
 * published by an atomic pointer like the events: never changed or freed
 * before the job, so any thread may walk the list. */
struct eng_checkpoint_stat {
    struct eng_checkpoint_stat *next;   /* older */
    uint64_t id;
    uint64_t trigger_ns, end_ns;        /* world time: triggered, completed or failed */
    uint64_t bytes;                     /* state files it wrote (sum of their sizes) */
    uint32_t acks, tasks;               /* tasks that acknowledged it, of all tasks */
    bool completed;                     /* false: failed, failure says why */
    char failure[160];
};

/* What happened to a job, in order: state changes, failures with their
 * reasons, checkpoints, restores and fallbacks.  Appended by the runner only
 * and published by an atomic pointer, so any thread may walk it; entries are
 * never changed or freed before the job. */
struct eng_job_event {
    struct eng_job_event *next;         /* older */
    uint64_t t_ns;                      /* world time */
    int state;                          /* job state after the event */
    char text[];
};

/* Takes ownership of graph (validated and expanded here).  Returns 0 or
 * -EINVAL with the reason in err.  Process memory; any thread. */
int eng_job_new(uint32_t id, struct eng_jobgraph *graph, const struct eng_job_config *cfg,
                struct dfs *dfs, struct eng_job **out, char *err, size_t errlen);
/* Frees the job and every attempt's channels.  Only once no actor of the job
 * can run (the world is stopped or the job's nodes are down). */
void eng_job_free(struct eng_job *j);
enum eng_job_state eng_job_state(const struct eng_job *j);
/* FINISHED, FAILED or CANCELED: a state the job never leaves. */
bool eng_job_state_is_terminal(enum eng_job_state s);
/* The job's state is terminal.  Any thread. */
bool eng_job_ended(const struct eng_job *j);
/* A count of every job's state changes in this process, after the state is
 * published: unchanged means no job changed state meanwhile.  Any thread. */
uint64_t eng_job_state_changes(void);
/* Copies the latest failure reason (empty if none).  Any thread. */
void eng_job_last_error(const struct eng_job *j, char *buf, size_t len);
/* Appends an event (runner only). */
void eng_job_event(struct eng_job *j, uint64_t t_ns, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Enters st: appends its event ("STATE" or "STATE: why"), then publishes the
 * state, so a thread that sees st also finds the event (runner only). */
void eng_job_set_state(struct eng_job *j, enum eng_job_state st, uint64_t t_ns, const char *why);

/* The failinfo of the "task/process" failpoint (faults/, docs/failpoints.md):
 * a task of job `job` with subtask index `subtask` fails at the first step at
 * which it has taken in at least at_record records since its deployment
 * (0: at its next step).  Checked once per step, never per record.  With
 * any_task, whichever task takes the failing step fails (a failpoint sweep
 * fails the N-th step of the run, knowing no job ids). */
struct eng_fail_point {
    uint32_t job;
    uint32_t subtask;
    uint64_t at_record;
    bool any_task;
};

/* Deploys one task: the payload of ENG_MSG_DEPLOY. */
struct eng_deploy {
    struct eng_job *job;
    struct eng_attempt *att;
    uint32_t task;                      /* execution-graph task id */
    uint32_t attempt;
    rt_addr runner;                     /* the job's runner: status and acks go there */
    uint64_t restore_checkpoint;        /* 0: a fresh start */
    uint32_t n_restore;
    struct eng_meta_entry restore[ENG_CHAIN_MAX];   /* this task's state files */
    bool restore_local;                 /* read them from the TaskManager's local copy */
};

struct eng_trigger {
    uint32_t attempt;
    uint64_t checkpoint_id;
    uint64_t base;                      /* incremental: the completed checkpoint whose
                                         * files it may refer to; 0: none */
    uint64_t timestamp_ms;
    bool final;                         /* sources end their output after this barrier */
};

struct eng_notify {
    uint32_t attempt;
    uint64_t checkpoint_id;
};

enum eng_task_state {
    ENG_TASK_DEPLOYING, ENG_TASK_RUNNING, ENG_TASK_INPUT_ENDED, ENG_TASK_ENDED,
    ENG_TASK_FINISHED, ENG_TASK_FAILED, ENG_TASK_CANCELED,
};

/* The payload of ENG_MSG_TASKS_FAIL: n task ids follow the head.  Unlike
 * ENG_MSG_JOB_FAIL (the whole job) only these tasks have failed; the
 * runner restarts what the failover strategy says they take with them. */
struct eng_tasks_fail {
    char reason[160];
    uint32_t n;
    uint32_t tasks[];
};

struct eng_task_status {
    uint32_t task, attempt;
    uint32_t state;                     /* enum eng_task_state */
    bool restore_failed;                /* the failure was reading or decoding state */
    uint64_t restore_checkpoint;
    uint64_t records_in, records_out;
    char reason[224];
};

/* The head of ENG_MSG_TASK_ACK; n entries of struct eng_meta_entry follow.
 * declined: the task could not snapshot (reason says why). */
struct eng_ack {
    uint32_t task, attempt;
    uint64_t checkpoint_id;
    uint32_t n;
    bool declined;
    char reason[160];
};

/* Creates the task actor for d on node n (which must be the current node).
 * The task restores its state if asked, then reports RUNNING to the runner.
 * Returns the actor. */
struct rt_actor *eng_task_spawn(struct rt_node *n, const struct eng_deploy *d);

/* A minimal task host for engine-level use (tests, benches): an actor that
 * spawns a task for every ENG_MSG_DEPLOY it receives.  Current node only. */
struct rt_actor *eng_taskhost_spawn(struct rt_node *n);

#endif
