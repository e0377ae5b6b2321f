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
    void *arg;
};

/* Spawns the runner for job j on node n (the current node) and deploys the
 * first attempt.  The policy is copied. */
struct rt_actor *eng_jobrun_spawn(struct rt_node *n, struct eng_job *j,
                                  const struct eng_jobrun_policy *policy);

#endif
