/*
 * jobrun.h - the job runner: one actor per job, on a JobManager node, that
 * deploys the job's tasks, coordinates its checkpoints and restarts it after
 * a failure.  The cluster layer wraps it with resource management and
 * restart strategies through the policy below; engine tests use it directly.
 *
 * Checkpoints (Flink's coordinator): every interval, if no more than
 * max_concurrent are pending and min_pause has passed since the last one
 * completed, the runner triggers the sources; tasks snapshot and ack with
 * their files; when every task has acked, the metadata file is written to a
 * temporary name, fsynced and renamed - only then is the checkpoint complete
 * and the tasks notified (sinks commit).  Checkpoints beyond num_retained
 * are deleted.  When every source has reached the end of its input, a final
 * checkpoint is triggered at once; tasks finish after it completes.
 *
 * Attempts are per task: a counter goes up by one per deployment and each
 * task keeps the one it was deployed with.  Every message between the
 * runner and a task (status, ack, trigger, notify, cancel) carries the
 * task's own attempt, and the runner ignores anything from an attempt it
 * has left behind, so a slow or dying task of an old attempt cannot disturb
 * a new one.
 *
 * Failover.  A failure names failed tasks - a task's own FAILED status, or
 * ENG_MSG_TASKS_FAIL from the owner (the tasks in a lost TaskManager's
 * slots) - or the whole job (ENG_MSG_JOB_FAIL, a failed final checkpoint,
 * too many failed checkpoints, a task with nowhere to run).  The policy's
 * restart_set turns failed tasks into the tasks to restart (Flink's
 * jobmanager.execution.failover-strategy: full, or region = the failed
 * tasks' pipelined regions); without it every failure restarts every task.
 * The runner cancels the tasks to restart and breaks their channels (an
 * instance that has not reported yet cannot be cancelled: it fails at its
 * first step, or is cancelled when it reports), aborts every pending
 * checkpoint (as Flink does), and asks on_failure whether and when to
 * restart - for every failover, full or region; `restarts` counts both.
 * The restart deploys a new attempt of just those tasks, restoring the
 * latest completed checkpoint, while the others run on: the new attempt
 * gets new channels wherever a restarted task sits at an end and reuses
 * the running ones elsewhere (no channel joins two regions, so none joins
 * a restarted task to a running one).  The next checkpoint is triggered
 * only once every task runs again.
 *
 * A failure while a restart waits for its delay widens it: the new tasks
 * join the waiting ones, on_failure is asked again, and the restart comes
 * after the later of the two delays.  A failure while a restart is being
 * deployed (CREATED) is a failover of its own; the tasks being deployed go
 * on.  Every task restarts, whatever the strategy, when the whole job
 * failed; once the final checkpoint has been triggered or a task has
 * FINISHED (a region restart cannot take a finished task back into a
 * finishing job, and that corner is not worth machinery); and when a
 * restore fails: if a task cannot read or decode the checkpoint, the whole
 * job restores it again (the restart strategy bounds the tries) when the
 * sinks have committed its output - an older checkpoint would commit those
 * records twice - and otherwise the runner drops it and falls back to the
 * previous retained one; both logged with why.
 *
 * Job state.  A region restart takes the job through FAILING -> RESTARTING
 * -> CREATED -> RUNNING like a full one; the RESTARTING event says what
 * restarts ("3 of 9 tasks, region 1 of 3 (region failover)").  Flink keeps
 * the job RUNNING during a region failover - only the region's executions
 * change state, and the rest of the job does run on.  We move the job
 * state all the same because the reports measure recovery from these
 * events (FAILING, "attempt N deployed", RUNNING), and a region restart
 * has to be measured like a full one.
 *
 * High availability: with an on_checkpoint callback the owner stores each
 * completed checkpoint's id (Flink's completed checkpoint store) before the
 * runner announces it: tasks are notified (sinks commit) and the subsumed
 * checkpoint is deleted only once the owner says it is stored, so a new
 * JobManager restoring from the stored id never finds it deleted nor the
 * sinks' output ahead of it.  eng_jobrun_spawn_restoring starts a runner
 * for a job that an earlier runner (on a JobManager that died) ran: it reads
 * the checkpoint's metadata and deploys its first attempt restoring from it.
 */
#ifndef ENG_JOBRUN_H
#define ENG_JOBRUN_H

#include "engine/job.h"

struct eng_jobrun_policy {
    /* The task host (an actor handling ENG_MSG_DEPLOY) for a task of an
     * attempt, asked only for the tasks that attempt deploys; 0 when there
     * is none (the runner fails the whole job). */
    rt_addr (*place)(void *arg, uint32_t task, uint32_t attempt);
    /* After the n-th failure (every failover, full or region): return 1 and
     * set *delay_ns to restart, 0 to fail the job for good.  NULL: restart
     * at once, forever. */
    int (*on_failure)(void *arg, uint32_t failures, const char *reason, uint64_t *delay_ns);
    /* The tasks to restart now that tasks failed[0..nfailed-1] have failed:
     * set restart[t] (one byte per task, zeroed by the runner) for each.
     * The set must hold the failed tasks and both ends of each channel of a
     * task in it; return 0, or < 0 to restart every task.  NULL: every
     * failure restarts every task. */
    int (*restart_set)(void *arg, const uint32_t *failed, uint32_t nfailed, uint8_t *restart);
    /* Before deploying attempt n of the tasks t with deploy[t] set (every
     * task at first, the tasks to restart after a failure): return 1 when
     * their resources are ready, 0 to wait for ENG_MSG_JOB_PROCEED from the
     * owner.  NULL: always ready. */
    int (*prepare)(void *arg, uint32_t attempt, const uint8_t *deploy);
    /* The job reached a terminal state (FINISHED, FAILED, CANCELED); may be NULL. */
    void (*on_terminal)(void *arg, enum eng_job_state st);
    /* Checkpoint `id` completed (its metadata is durable).  Return 1 to let
     * the runner announce it at once, 0 when the owner stores it first and
     * then sends ENG_MSG_JOB_CHECKPOINT_STORED {uint64_t id} (which also
     * announces every earlier one).  NULL: announce at once. */
    int (*on_checkpoint)(void *arg, uint64_t id);
    /* Local recovery (may be NULL: never local): whether the TaskManager
     * task is placed on now has hosted it without a break since `attempt`
     * (the runner's attempt when the checkpoint to restore completed), so
     * the snapshot it wrote there is on its local disk. */
    bool (*local)(void *arg, uint32_t task, uint32_t attempt);
    void *arg;
};

/* owner -> runner: uint64_t checkpoint id, stored by the owner (see
 * on_checkpoint).  Outside job.h's range (RT_MSG_USER + 100..). */
#define ENG_MSG_JOB_CHECKPOINT_STORED (RT_MSG_USER + 130)

/* Spawns the runner for job j on node n (the current node) and deploys the
 * first attempt.  The policy is copied. */
struct rt_actor *eng_jobrun_spawn(struct rt_node *n, struct eng_job *j,
                                  const struct eng_jobrun_policy *policy);

/* As eng_jobrun_spawn, for a job recovered from a checkpoint: the runner
 * reads <j->dir>/chk-<checkpoint_id>/_metadata from the DFS, then deploys
 * attempt 0 restoring from it (checkpoints continue at checkpoint_id + 1).
 * An unreadable or corrupt metadata file fails the job (FAILED, reason in
 * its events): starting afresh would repeat output the sinks committed.
 * checkpoint_id 0 is a fresh start, as eng_jobrun_spawn. */
struct rt_actor *eng_jobrun_spawn_restoring(struct rt_node *n, struct eng_job *j,
                                            const struct eng_jobrun_policy *policy,
                                            uint64_t checkpoint_id);

#endif
