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
 * Failure: any task failure (or ENG_MSG_JOB_FAIL from the owner) cancels the
 * attempt's tasks; the policy says whether and when to restart; a restart
 * deploys a new attempt that restores from the latest completed checkpoint.
 * If a task cannot read or decode that checkpoint, the runner drops it and
 * falls back to the previous retained one, logging why.
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
     * attempt; 0 when there is none (the runner fails the attempt). */
    rt_addr (*place)(void *arg, uint32_t task, uint32_t attempt);
    /* After the n-th failure: return 1 and set *delay_ns to restart, 0 to
     * fail the job for good.  NULL: restart at once, forever. */
    int (*on_failure)(void *arg, uint32_t failures, const char *reason, uint64_t *delay_ns);
    /* Before deploying attempt n: return 1 when resources are ready, 0 to wait
     * for ENG_MSG_JOB_PROCEED from the owner.  NULL: always ready. */
    int (*prepare)(void *arg, uint32_t attempt);
    /* The job reached a terminal state (FINISHED, FAILED, CANCELED); may be NULL. */
    void (*on_terminal)(void *arg, enum eng_job_state st);
    /* Checkpoint `id` completed (its metadata is durable).  Return 1 to let
     * the runner announce it at once, 0 when the owner stores it first and
     * then sends ENG_MSG_JOB_CHECKPOINT_STORED {uint64_t id} (which also
     * announces every earlier one).  NULL: announce at once. */
    int (*on_checkpoint)(void *arg, uint64_t id);
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
